"""The award workflow: submit → approved at once or pending → approve | reject; revoke; appeal.

Rules
- An event awards (points > 0) or deducts (points < 0) the same points to one or many members;
  each member gets one ledger entry (key ``{event key}:{member id}``), all sharing the event's status.
- Nobody can award or deduct points for themselves, nor approve, revoke or decide an appeal on an
  entry of their own (the token's ``member_id`` is the person behind it).
- Authority: org admins are unlimited; a manager may move at most their ``AuthorityLimit`` for the
  point type per member and event (no limit row: nothing). A submission within the submitter's
  authority, for a rule that does not need review, is approved at once; anything else is pending
  and needs an approver whose authority covers it and who is not the submitter.
- Revocation and an upheld appeal add a compensating entry (the opposite points, ``revokes_id``);
  entries are never edited. A compensating entry cannot itself be revoked; an entry is revoked once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import (
    Appeal,
    AppealStatus,
    AuthorityLimit,
    EntrySource,
    EntryStatus,
    LedgerEntry,
    LedgerEvent,
    PointRule,
    Role,
)
from cloud.domain import ledger


class Refusal(enum.Enum):
    """Why the workflow refuses: maps to 403 (forbidden), 409 (conflict), 422 (invalid)."""

    FORBIDDEN = 403
    CONFLICT = 409
    INVALID = 422


class WorkflowError(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    """The caller as the workflow sees them: token, role and the member behind the token."""

    token_id: int | None
    role: Role
    member_id: int | None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Submission:
    org_id: int
    member_ids: tuple[int, ...]
    point_type_id: int
    points: int
    rule: PointRule | None
    reason: str | None
    source: EntrySource
    effective_date: dt.date
    idempotency_key: str


async def submit(session: AsyncSession, sub: Submission, by: Person) -> LedgerEvent:
    """Record an event and its entries, approved at once when ``by`` may; the caller commits."""
    _check_points(sub.rule, sub.points)
    if by.member_id is not None and by.member_id in sub.member_ids:
        raise WorkflowError(Refusal.FORBIDDEN, "nobody can award or deduct points for themselves")
    limit = await authority(session, sub.org_id, by, sub.point_type_id)
    needs_review = sub.rule is not None and sub.rule.needs_review
    approved = not needs_review and (limit is None or abs(sub.points) <= limit)
    status = EntryStatus.APPROVED if approved else EntryStatus.PENDING
    event = LedgerEvent(
        org_id=sub.org_id,
        point_type_id=sub.point_type_id,
        points=sub.points,
        rule_id=None if sub.rule is None else sub.rule.id,
        reason=sub.reason,
        source=sub.source.value,
        effective_date=sub.effective_date,
        status=status.value,
        idempotency_key=sub.idempotency_key,
        submitted_by_token_id=by.token_id,
        submitted_by_member_id=by.member_id,
    )
    session.add(event)
    await session.flush()
    for member_id in dict.fromkeys(sub.member_ids):
        await ledger.record_entry(session, _entry(sub, event, member_id, status))
    return event


async def authority(session: AsyncSession, org_id: int, by: Person, point_type_id: int) -> int | None:
    """The most points ``by`` may move per member and event (None: unlimited, 0: none)."""
    if by.role in (Role.ORG_ADMIN, Role.PLATFORM_ADMIN):
        return None
    if by.member_id is None:
        return 0
    query = select(AuthorityLimit.max_points).where(
        AuthorityLimit.org_id == org_id,
        AuthorityLimit.manager_member_id == by.member_id,
        AuthorityLimit.point_type_id == point_type_id,
    )
    return (await session.execute(query)).scalar_one_or_none() or 0


async def entries_of(session: AsyncSession, event: LedgerEvent) -> list[LedgerEntry]:
    """The event's original entries (not the compensations), by member."""
    query = select(LedgerEntry).where(LedgerEntry.event_id == event.id, LedgerEntry.revokes_id.is_(None))
    return list((await session.execute(query.order_by(LedgerEntry.member_id))).scalars())


async def approve(session: AsyncSession, event: LedgerEvent, by: Person, comment: str | None) -> None:
    """Approve a pending event: its entries move the balances now; the caller commits."""
    entries = await _decidable(session, event, by)
    limit = await authority(session, event.org_id, by, event.point_type_id)
    if limit is not None and abs(event.points) > limit:
        raise WorkflowError(Refusal.FORBIDDEN, f"approving {event.points} points exceeds your authority")
    for entry in entries:
        await ledger.approve(session, entry)
    _decide(event, EntryStatus.APPROVED, by, comment)


async def reject(session: AsyncSession, event: LedgerEvent, by: Person, comment: str | None) -> None:
    """Reject a pending event: its entries never count; the caller commits."""
    for entry in await _decidable(session, event, by):
        entry.status = EntryStatus.REJECTED
    _decide(event, EntryStatus.REJECTED, by, comment)


async def revoke(session: AsyncSession, entry: LedgerEntry, by: Person, reason: str) -> LedgerEntry:
    """Cancel an approved entry with a compensating entry; the caller commits."""
    await _check_revocable(session, entry, by)
    return await ledger.revoke(
        session, entry, idempotency_key=f"revoke:{entry.idempotency_key}", reason=reason
    )


async def file_appeal(session: AsyncSession, entry: LedgerEntry, reason: str) -> Appeal:
    """Open an appeal against an approved, standing entry; the caller commits."""
    await _check_revocable(session, entry, None)
    pending = select(Appeal.id).where(Appeal.entry_id == entry.id, Appeal.status == AppealStatus.PENDING)
    if (await session.execute(pending)).first():
        raise WorkflowError(Refusal.CONFLICT, f"entry {entry.id} already has a pending appeal")
    appeal = Appeal(org_id=entry.org_id, entry_id=entry.id, reason=reason, status=AppealStatus.PENDING)
    session.add(appeal)
    await session.flush()
    return appeal


async def decide_appeal(
    session: AsyncSession, appeal: Appeal, by: Person, upheld: bool, comment: str | None
) -> None:
    """Uphold (compensating entry) or deny a pending appeal; the caller commits."""
    if appeal.status != AppealStatus.PENDING:
        raise WorkflowError(Refusal.CONFLICT, f"appeal {appeal.id} is already {appeal.status}")
    entry = await session.get_one(LedgerEntry, appeal.entry_id)
    if upheld:
        compensation = await revoke(session, entry, by, f"appeal {appeal.id} upheld: {comment or ''}")
        appeal.compensation_id = compensation.id
    elif by.member_id is not None and by.member_id == entry.member_id:
        raise WorkflowError(Refusal.FORBIDDEN, "nobody decides an appeal about their own points")
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.DENIED
    appeal.decision_comment = comment
    appeal.decided_at = utc_now()


async def _decidable(session: AsyncSession, event: LedgerEvent, by: Person) -> list[LedgerEntry]:
    if event.status != EntryStatus.PENDING:
        raise WorkflowError(Refusal.CONFLICT, f"event {event.id} is already {event.status}")
    if by.role != Role.ORG_ADMIN and by.token_id is not None and by.token_id == event.submitted_by_token_id:
        raise WorkflowError(Refusal.FORBIDDEN, "a manager cannot approve or reject their own submission")
    entries = await entries_of(session, event)
    if by.member_id is not None and any(e.member_id == by.member_id for e in entries):
        raise WorkflowError(Refusal.FORBIDDEN, "nobody decides on points for themselves")
    return entries


def _decide(event: LedgerEvent, status: EntryStatus, by: Person, comment: str | None) -> None:
    event.status = status.value
    event.decided_by_token_id = by.token_id
    event.decided_at = utc_now()
    event.decision_comment = comment


async def _check_revocable(session: AsyncSession, entry: LedgerEntry, by: Person | None) -> None:
    if entry.status != EntryStatus.APPROVED:
        raise WorkflowError(Refusal.CONFLICT, f"entry {entry.id} is {entry.status}; only approved ones count")
    if entry.revokes_id is not None:
        raise WorkflowError(Refusal.CONFLICT, f"entry {entry.id} is a compensation and cannot be revoked")
    if by is not None and by.member_id is not None and by.member_id == entry.member_id:
        raise WorkflowError(Refusal.FORBIDDEN, "nobody revokes points of their own")
    revoked = exists().where(LedgerEntry.revokes_id == entry.id)
    if (await session.execute(select(revoked))).scalar():
        raise WorkflowError(Refusal.CONFLICT, f"entry {entry.id} is already revoked")


def _check_points(rule: PointRule | None, points: int) -> None:
    if not points:
        raise WorkflowError(Refusal.INVALID, "points must be a non-zero integer (or come from a rule)")
    if rule is None:
        return
    if rule.min_points is not None and points < rule.min_points:
        raise WorkflowError(
            Refusal.INVALID, f"rule {rule.id} allows at least {rule.min_points} points, got {points}"
        )
    if rule.max_points is not None and points > rule.max_points:
        raise WorkflowError(
            Refusal.INVALID, f"rule {rule.id} allows at most {rule.max_points} points, got {points}"
        )


def _entry(sub: Submission, event: LedgerEvent, member_id: int, status: EntryStatus) -> ledger.NewEntry:
    return ledger.NewEntry(
        org_id=sub.org_id,
        member_id=member_id,
        point_type_id=sub.point_type_id,
        points=sub.points,
        source=sub.source,
        effective_date=sub.effective_date,
        idempotency_key=f"{sub.idempotency_key}:{member_id}",
        rule_id=event.rule_id,
        reason=sub.reason,
        status=status,
        event_id=event.id,
    )
