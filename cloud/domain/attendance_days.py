"""Computed attendance days: closing a day (absences) and corrections (补卡).

Rules
- Closing a day reads the calendar (``cloud.domain.calendar``): a day that is not a work day (a
  public holiday, a rest day) records nothing; a member on leave that day is excused; a member's
  check-ins count towards the shift day they belong to (a cross-midnight shift's check-in after
  midnight counts for the day before).
- Closing a day gives every active member with no check-in that day (and no standing attendance
  entry) the absence rule's entry, key ``absent:{member}:{day}``: closing twice changes nothing.
  It also records early leaves (``attendance_completeness``) when the rule has a shift end and an
  early-leave rule; a rule with neither an absence nor an early-leave rule cannot close a day.
- A correction says the member was there on time: every standing generated entry of that day that
  is not the on-time rule (late, absence) is revoked by a compensating entry, and the on-time rule is
  recorded under ``attendance:{member}:{day}:correction:{id}``. Nothing to correct answers an error.
- Generated deductions stay reviewable (ledger entries with source ``attendance``) and reversible
  (``POST /ledger-entries/{id}/revoke``) like any other entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cloud.db.models import (
    AttendanceCorrection,
    AttendanceRule,
    LedgerEntry,
    Member,
    MemberStatus,
)
from cloud.domain import attendance_completeness, calendar, ledger
from cloud.domain.attendance import CHECK_IN_STATES, absence_key, current_rule, day_key
from cloud.domain.calendar import ShiftTimes


class AttendanceError(Exception):
    """The request does not apply (no attendance rule, nothing to correct)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CorrectionResult:
    correction: AttendanceCorrection
    revoked: tuple[LedgerEntry, ...]
    awarded: LedgerEntry


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DayClosing:
    absences: int
    early_leaves: int
    work_day: bool = True


async def close_day(session: AsyncSession, org_id: int, day: dt.date, time_zone: str) -> DayClosing:
    """Record absences and early leaves for ``day`` (counts of those recorded now). The caller commits."""
    rule = await _rule(session, org_id)
    if rule.absence_rule_id is None and rule.early_leave_rule_id is None:
        raise AttendanceError("the attendance rule has no absence rule (absence_rule_id) nor early leave")
    if not (await calendar.load_calendar(session, org_id, day, day)).is_work_day(day):
        return DayClosing(absences=0, early_leaves=0, work_day=False)
    zone = ZoneInfo(time_zone)
    shifts = await calendar.member_shifts(session, org_id, calendar.rule_shift(rule))
    excused = await calendar.on_leave(session, org_id, day)
    absences = await _close_absences(session, rule, day, zone, shifts, excused)
    early_leaves = await attendance_completeness.close_early_leaves(session, rule, day, zone, shifts, excused)
    return DayClosing(absences=absences, early_leaves=early_leaves)


async def _close_absences(
    session: AsyncSession,
    rule: AttendanceRule,
    day: dt.date,
    zone: ZoneInfo,
    shifts: dict[int, ShiftTimes],
    excused: set[int],
) -> int:
    if rule.absence_rule_id is None:
        return 0
    org_id = rule.org_id
    punches = attendance_completeness.punches_around(org_id, day, zone, CHECK_IN_STATES)
    checked_in = {
        member_id
        for member_id, _state, at in (await session.execute(punches)).all()
        if member_id is not None
        and attendance_completeness.in_shift_day(shifts.get(member_id), day, zone, at)
    }
    query = select(Member.id).where(Member.org_id == org_id, Member.status == MemberStatus.ACTIVE)
    recorded = 0
    for member_id in (await session.execute(query.order_by(Member.id))).scalars():
        if member_id in checked_in or member_id in excused:
            continue
        if await _standing(session, org_id, member_id, day):
            continue
        await attendance_completeness.record_attendance_entry(
            session, org_id, member_id, day, rule.absence_rule_id, absence_key(member_id, day)
        )
        recorded += 1
    return recorded


async def correct(
    session: AsyncSession, org_id: int, member_id: int, day: dt.date, reason: str, token_id: int | None
) -> CorrectionResult:
    """Cancel the day's lateness or absence and award the on-time rule instead; the caller commits."""
    rule = await _rule(session, org_id)
    standing = await _standing(session, org_id, member_id, day)
    to_revoke = [e for e in standing if e.rule_id != rule.on_time_rule_id]
    if standing and not to_revoke:
        raise AttendanceError(f"member {member_id} is already on time on {day.isoformat()}")
    correction = AttendanceCorrection(
        org_id=org_id, member_id=member_id, day=day, reason=reason, created_by_token_id=token_id
    )
    session.add(correction)
    await session.flush()
    revoked = []
    for entry in to_revoke:
        key = f"revoke:{entry.idempotency_key}"
        revoked.append(
            await ledger.revoke(session, entry, idempotency_key=key, reason=f"correction {correction.id}")
        )
    key = f"{day_key(member_id, day)}:correction:{correction.id}"
    awarded = await attendance_completeness.record_attendance_entry(
        session, org_id, member_id, day, rule.on_time_rule_id, key
    )
    return CorrectionResult(correction=correction, revoked=tuple(revoked), awarded=awarded)


async def _rule(session: AsyncSession, org_id: int) -> AttendanceRule:
    rule = await current_rule(session, org_id)
    if rule is None:
        raise AttendanceError("the organisation has no attendance rule")
    return rule


async def _standing(session: AsyncSession, org_id: int, member_id: int, day: dt.date) -> list[LedgerEntry]:
    """The day's generated entries (attendance or absence) that are not revoked."""
    key = day_key(member_id, day)
    revoked = aliased(LedgerEntry)
    query = select(LedgerEntry).where(
        LedgerEntry.org_id == org_id,
        LedgerEntry.revokes_id.is_(None),
        or_(
            LedgerEntry.idempotency_key == key,
            LedgerEntry.idempotency_key.startswith(f"{key}:"),
            LedgerEntry.idempotency_key == absence_key(member_id, day),
        ),
        ~exists().where(revoked.revokes_id == LedgerEntry.id),
    )
    return list((await session.execute(query.order_by(LedgerEntry.id))).scalars())
