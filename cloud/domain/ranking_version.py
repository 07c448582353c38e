"""The ranking version: one counter per organisation, moved by every change to what its rankings show.

Rule: every transaction that moves a balance calls ``bump`` before it commits (the ledger does, for
every path through it; set-based ingest does too), and so does every change of a member's name,
status or department and of the department tree. The counter commits or rolls back with the change,
so any process that reads the version also sees the balances of that version or newer: a cached
ranking stored under version V is valid for exactly as long as the row still reads V.

Read the version before the ranking: under READ COMMITTED (PostgreSQL) the ranking read may see a
newer commit than the version read did, which only ever stores fresher content under an older
version (recomputed at the next bump), never stale content under a newer one.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import Select, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Organisation, RankingVersion


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Stamp:
    """What a cached ranking of one organisation depends on besides its query: version and time zone."""

    version: int
    time_zone: str  # the default period key is "today" in this zone


async def bump(session: AsyncSession, org_id: int) -> None:
    """Move ``org_id``'s ranking version, in the caller's transaction; the caller commits."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(RankingVersion).values(org_id=org_id, version=1)
    statement = statement.on_conflict_do_update(
        index_elements=["org_id"], set_={"version": RankingVersion.version + 1}
    )
    await session.execute(statement)


# Built once (building a statement costs more than running this one): one primary-key read of the
# organisation joined to its version row; no row yet reads as version 0.
_STAMP: Select[int, str] = (
    select(RankingVersion.version, Organisation.time_zone)
    .select_from(Organisation)
    .outerjoin(RankingVersion, RankingVersion.org_id == Organisation.id)
    .where(Organisation.id == bindparam("org_id"))
)


async def stamp(session: AsyncSession, org_id: int) -> Stamp:
    """The current version and time zone of ``org_id`` (which must exist)."""
    row = (await session.execute(_STAMP, {"org_id": org_id})).one()
    return Stamp(version=row.version or 0, time_zone=row.time_zone)  # outer join: None before any bump
