"""The point ledger: append-only entries, with balances updated in the same transaction.

A revocation is a compensating entry (``revokes_id``), never an update or delete. Only approved
entries move balances; pending ones move them when approved (``approve``, see ``workflow``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Balance, EntrySource, EntryStatus, LedgerEntry
from cloud.domain import ranking_version
from cloud.domain.periods import period_keys


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class NewEntry:
    """What a caller asks to record; ``idempotency_key`` is unique per organisation."""

    org_id: int
    member_id: int
    point_type_id: int
    points: int
    source: EntrySource
    effective_date: dt.date
    idempotency_key: str
    rule_id: int | None = None
    reason: str | None = None
    status: EntryStatus = EntryStatus.APPROVED
    revokes_id: int | None = None
    event_id: int | None = None


async def record_entry(session: AsyncSession, new: NewEntry) -> LedgerEntry:
    """Insert the entry and (if approved) add its points to every period balance; the caller commits."""
    entry = LedgerEntry(**dataclasses.asdict(new))
    session.add(entry)
    await session.flush()
    if entry.status == EntryStatus.APPROVED:
        await _add_to_balances(session, entry)
    return entry


async def find_by_key(session: AsyncSession, org_id: int, idempotency_key: str) -> LedgerEntry | None:
    """The entry recorded earlier under ``idempotency_key``, if any."""
    query = select(LedgerEntry).where(
        LedgerEntry.org_id == org_id, LedgerEntry.idempotency_key == idempotency_key
    )
    return (await session.execute(query)).scalar_one_or_none()


async def revoke(
    session: AsyncSession, entry: LedgerEntry, *, idempotency_key: str, reason: str
) -> LedgerEntry:
    """Cancel ``entry`` with a compensating entry of the opposite points."""
    return await record_entry(
        session,
        NewEntry(
            org_id=entry.org_id,
            member_id=entry.member_id,
            point_type_id=entry.point_type_id,
            points=-entry.points,
            source=EntrySource.SYSTEM,
            effective_date=entry.effective_date,
            idempotency_key=idempotency_key,
            reason=reason,
            revokes_id=entry.id,
            event_id=entry.event_id,
        ),
    )


async def approve(session: AsyncSession, entry: LedgerEntry) -> None:
    """Move a pending entry to approved and add its points to the balances; the caller commits."""
    if entry.status != EntryStatus.PENDING:
        raise ValueError(f"entry {entry.id} is {entry.status}, not pending")
    entry.status = EntryStatus.APPROVED
    await session.flush()
    await _add_to_balances(session, entry)


async def _add_to_balances(session: AsyncSession, entry: LedgerEntry) -> None:
    # One upsert for every period: insert a row or add to it (both dialects speak ON CONFLICT).
    rows = [
        {
            "org_id": entry.org_id,
            "member_id": entry.member_id,
            "point_type_id": entry.point_type_id,
            "period_kind": kind.value,
            "period_key": key,
            "points": entry.points,
        }
        for kind, key in period_keys(entry.effective_date).items()
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(Balance).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["org_id", "point_type_id", "period_kind", "period_key", "member_id"],
        set_={"points": Balance.points + statement.excluded.points},
    )
    await session.execute(statement)
    await ranking_version.bump(session, entry.org_id)  # cached rankings of the org are stale now
