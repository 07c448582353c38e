"""On PostgreSQL, which statements of an ingest transaction are planned with their values.

asyncpg prepares every statement once per connection, and after five executions the server may
keep a *generic* plan for it, made without the values and never remade until the table's
statistics change. A lookup table that starts empty and grows by thousands of rows a second (a new
cloud's first morning, a backlog) then keeps the plan it got when empty, a scan of every row:
measured 45–50 ms per 128-key lookup after 8,000 punches, against about 1 ms for the index probes
a plan made with the values picks, since such a plan also reads the table's current size.

Rule: an ingest transaction plans its reads (lookups by sets of keys) with their values
(``reads_with_values``, first) and its writes (``unnest`` inserts and upserts, whose plan is the
same whatever the data) generically (``writes_generic``, after the reads): a custom plan of an
insert copies every array into the plan again, which doubled those statements' cost. Both are
``SET LOCAL``: they end with the transaction. Other engines have no plan cache to steer.

After a bulk load (a member import), ``refresh_statistics`` analyses the table at once rather than
within autovacuum's next minute or so: the first punches of a newly imported organisation are then
resolved by index probes, not by a scan the planner picked for a table it believed nearly empty.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_WITH_VALUES = text("SET LOCAL plan_cache_mode = force_custom_plan")
_GENERIC = text("SET LOCAL plan_cache_mode = auto")


async def reads_with_values(session: AsyncSession) -> None:
    """From here to the transaction's end (or ``writes_generic``), plan each statement with its values."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_WITH_VALUES)


async def writes_generic(session: AsyncSession) -> None:
    """From here on, let prepared statements keep their generic plan (the server's default)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_GENERIC)


async def refresh_statistics(session: AsyncSession, table: str) -> None:
    """Gather ``table``'s planner statistics now (PostgreSQL; SQLite plans without them)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ANALYZE {table}"))
