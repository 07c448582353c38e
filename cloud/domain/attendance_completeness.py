"""Attendance completeness: early leave (closing a day) and full attendance (closing a month).

Rules
- Early leave is decided when the day is closed, not when a check-out arrives: a later check-out of
  the same day may still be on its way from a device read late. The member's last ``check_out`` punch
  of the local day decides: before ``shift_end`` → the early-leave rule, refined by
  ``early_leave_bands`` (the band with the largest ``before_minutes`` below the minutes early applies,
  like the late bands). The member's shift (``cloud.domain.calendar``) gives the end, flexible
  hours move it by the minutes the member arrived late (within the flexible window), and a
  cross-midnight shift's check-outs after midnight belong to the day before. A member on leave, or
  with no check-out that day, gets nothing. Key
  ``early:{member}:{day}``: closing twice records once.
- Closing a month awards ``full_attendance_rule_id`` to every active member with at least one standing
  on-time entry in the month and no standing lateness, absence or early-leave entry (the generated
  entries whose rule is a late, band, absence or early-leave rule of any of the organisation's
  attendance rules). Key ``full:{member}:{YYYY-MM}``: closing twice awards once. Only a month that
  has ended (in the organisation's time zone) can be closed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cloud.db.models import (
    AttendancePunch,
    AttendanceRule,
    EntrySource,
    LedgerEntry,
    Member,
    MemberStatus,
    PointRule,
)
from cloud.domain import ledger
from cloud.domain.calendar import ShiftTimes

CHECK_OUT = "check_out"
CHECK_IN_STATES = frozenset({"check_in", "undefined"})  # as ``attendance`` (no import cycle)


class CompletenessError(Exception):
    """The request does not apply (no rule for it, month not over)."""


def rule_for_departure(rule: AttendanceRule, local: dt.datetime) -> int | None:
    """The early-leave rule for a last check-out at ``local`` on the rule's own shift, or None."""
    if rule.shift_end is None:
        return None
    end = dt.datetime.combine(local.date(), rule.shift_end, local.tzinfo)
    return early_leave_rule(rule, (end - local).total_seconds() / 60)


def early_leave_rule(rule: AttendanceRule, minutes_early: float) -> int | None:
    """The early-leave rule (or band) for leaving ``minutes_early`` before the end; None if not early."""
    if rule.early_leave_rule_id is None or minutes_early <= 0:
        return None
    bands = sorted(
        (b for b in rule.early_leave_bands if minutes_early > b["before_minutes"]),
        key=lambda b: b["before_minutes"],
    )
    return bands[-1]["rule_id"] if bands else rule.early_leave_rule_id


def early_key(member_id: int, day: dt.date) -> str:
    """The idempotency key of a member's early-leave entry for a day."""
    return f"early:{member_id}:{day.isoformat()}"


def full_key(member_id: int, year: int, month: int) -> str:
    """The idempotency key of a member's full-attendance award for a month."""
    return f"full:{member_id}:{year:04d}-{month:02d}"


def punches_around(
    org_id: int, day: dt.date, zone: ZoneInfo, states: frozenset[str]
) -> Select[int | None, str, dt.datetime]:
    """(member, state, time) of active members' punches from the day before ``day`` to the day after:
    wide enough for any shift day's window, which ``in_shift_day`` then applies per member."""
    start = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), zone)
    return (
        select(AttendancePunch.member_id, AttendancePunch.state, AttendancePunch.occurred_at)
        .join(Member, Member.id == AttendancePunch.member_id)
        .where(
            AttendancePunch.org_id == org_id,
            AttendancePunch.occurred_at >= start,
            AttendancePunch.occurred_at < start + dt.timedelta(days=3),
            AttendancePunch.state.in_(states),
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(AttendancePunch.member_id, AttendancePunch.occurred_at)
    )


def in_shift_day(shift: ShiftTimes | None, day: dt.date, zone: ZoneInfo, moment: dt.datetime) -> bool:
    """Whether ``moment`` belongs to shift day ``day`` of ``shift``."""
    if shift is None:
        return False
    first, after = shift.window(day, zone)
    return first <= _aware(moment) < after


async def close_early_leaves(
    session: AsyncSession,
    rule: AttendanceRule,
    day: dt.date,
    zone: ZoneInfo,
    shifts: dict[int, ShiftTimes],
    excused: set[int],
) -> int:
    """Record early leaves for ``day``; returns how many were recorded now. The caller commits."""
    if rule.early_leave_rule_id is None:
        return 0
    first_in: dict[int, dt.datetime] = {}
    last_out: dict[int, dt.datetime] = {}
    punches = punches_around(rule.org_id, day, zone, CHECK_IN_STATES | {CHECK_OUT})
    for member_id, state, at in (await session.execute(punches)).all():
        if member_id is None or member_id in excused:
            continue
        if not in_shift_day(shifts.get(member_id), day, zone, at):
            continue
        local = _aware(at).astimezone(zone)
        if state == CHECK_OUT:
            last_out[member_id] = local  # time order: the last one stays
        else:
            first_in.setdefault(member_id, local)
    recorded = 0
    for member_id, out in sorted(last_out.items()):
        shift = shifts[member_id]
        if shift.end is None:
            continue
        rule_id = early_leave_rule(rule, shift.minutes_early(out, first_in.get(member_id), day))
        key = early_key(member_id, day)
        if rule_id is None or await ledger.find_by_key(session, rule.org_id, key) is not None:
            continue
        await record_attendance_entry(session, rule.org_id, member_id, day, rule_id, key)
        recorded += 1
    return recorded


async def close_month(
    session: AsyncSession, rule: AttendanceRule, year: int, month: int, today: dt.date
) -> int:
    """Award full attendance for the month; returns how many were awarded now. The caller commits."""
    if rule.full_attendance_rule_id is None:
        raise CompletenessError("the attendance rule has no full-attendance rule (full_attendance_rule_id)")
    first = dt.date(year, month, 1)
    after = dt.date(year + month // 12, month % 12 + 1, 1)
    if today < after:
        raise CompletenessError(f"{year:04d}-{month:02d} has not ended yet")
    bad_rules = await _shortfall_rule_ids(session, rule.org_id)
    in_month = _standing_generated(rule.org_id, first, after)
    attended = in_month.where(LedgerEntry.rule_id.not_in(bad_rules))
    fell_short = in_month.where(LedgerEntry.rule_id.in_(bad_rules))
    query = select(Member.id).where(
        Member.org_id == rule.org_id,
        Member.status == MemberStatus.ACTIVE,
        Member.id.in_(attended),
        Member.id.not_in(fell_short),
    )
    awarded = 0
    for member_id in (await session.execute(query.order_by(Member.id))).scalars():
        key = full_key(member_id, year, month)
        if await ledger.find_by_key(session, rule.org_id, key) is not None:
            continue
        last_day = after - dt.timedelta(days=1)
        await record_attendance_entry(
            session, rule.org_id, member_id, last_day, rule.full_attendance_rule_id, key
        )
        awarded += 1
    return awarded


def _standing_generated(org_id: int, first: dt.date, after: dt.date) -> Select[tuple[int | None]]:
    """Member ids of attendance entries in [first, after) that are neither revoked nor revocations."""
    revoked = aliased(LedgerEntry)
    return select(LedgerEntry.member_id).where(  # type: ignore[return-value]
        LedgerEntry.org_id == org_id,
        LedgerEntry.source == EntrySource.ATTENDANCE,
        LedgerEntry.effective_date >= first,
        LedgerEntry.effective_date < after,
        LedgerEntry.revokes_id.is_(None),
        LedgerEntry.rule_id.is_not(None),
        ~LedgerEntry.idempotency_key.startswith("full:"),
        ~exists().where(revoked.revokes_id == LedgerEntry.id),
    )


async def _shortfall_rule_ids(session: AsyncSession, org_id: int) -> set[int]:
    """Every late, band, absence and early-leave rule of the organisation's attendance rules."""
    rules = (await session.execute(select(AttendanceRule).where(AttendanceRule.org_id == org_id))).scalars()
    ids: set[int] = set()
    for r in rules:
        ids.add(r.late_rule_id)
        ids.update(b["rule_id"] for b in [*r.late_bands, *r.early_leave_bands])
        ids.update(i for i in (r.absence_rule_id, r.early_leave_rule_id) if i is not None)
    return ids


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC datetimes from aggregates; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


async def record_attendance_entry(
    session: AsyncSession, org_id: int, member_id: int, day: dt.date, rule_id: int, key: str
) -> LedgerEntry:
    """The catalogue rule's points for one member and day, as an attendance entry (idempotent by key)."""
    point_rule = await session.get_one(PointRule, rule_id)
    return await ledger.record_entry(
        session,
        ledger.NewEntry(
            org_id=org_id,
            member_id=member_id,
            point_type_id=point_rule.point_type_id,
            points=point_rule.points,
            source=EntrySource.ATTENDANCE,
            effective_date=day,
            idempotency_key=key,
            rule_id=rule_id,
        ),
    )
