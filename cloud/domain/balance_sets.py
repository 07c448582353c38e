"""Balances for many ledger entries at once: one aggregated upsert per chunk of period rows.

Rule: the same rows and sums as adding each entry in turn (``ledger.record_entry``): every period
an entry touches gets a row, even when the entries of a batch cancel out (a revocation and its
replacement); rows go in key order, so two workers upserting overlapping balances lock them in
the same order and cannot deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Balance
from cloud.domain.periods import period_keys

# Rows per statement: 6 parameters a row stays well under both engines' parameter limits (32,766).
CHUNK_ROWS: Final = 2000

BalanceKey = tuple[int, int, str, str]  # member, point type, period kind, period key


def period_deltas(entries: Iterable[Mapping[str, Any]]) -> Counter[BalanceKey]:
    """The points each (member, point type, period) gains from approved ``entries`` (ledger rows)."""
    deltas: Counter[BalanceKey] = Counter()
    for entry in entries:
        for kind, key in period_keys(entry["effective_date"]).items():
            deltas[(entry["member_id"], entry["point_type_id"], kind.value, key)] += entry["points"]
    return deltas


async def add_to_balances(session: AsyncSession, org_id: int, deltas: Counter[BalanceKey]) -> None:
    """Insert or add to every balance row in ``deltas``: one statement per ``CHUNK_ROWS`` rows."""
    rows = [
        {
            "org_id": org_id,
            "member_id": member_id,
            "point_type_id": point_type_id,
            "period_kind": kind,
            "period_key": key,
            "points": points,
        }
        for (member_id, point_type_id, kind, key), points in sorted(deltas.items())
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(rows), CHUNK_ROWS):
        statement = insert(Balance).values(rows[start : start + CHUNK_ROWS])
        statement = statement.on_conflict_do_update(
            index_elements=["org_id", "point_type_id", "period_kind", "period_key", "member_id"],
            set_={"points": Balance.points + statement.excluded.points},
        )
        await session.execute(statement)
