"""Attendance completeness: early leave (closing a day) and full attendance (closing a month).

Rules
- Early leave is decided when the day is closed, not when a check-out arrives: a later check-out of
  the same day may still be on its way from a device read late. The member's last ``check_out`` punch
  of the local day decides: before ``shift_end`` → the early-leave rule, refined by
  ``early_leave_bands`` (the band with the largest ``before_minutes`` below the minutes early applies,
  like the late bands). A member with no check-out that day gets nothing. Key
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

from sqlalchemy import Select, exists, func, select
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

CHECK_OUT = "check_out"


class CompletenessError(Exception):
    """The request does not apply (no rule for it, month not over)."""


def rule_for_departure(rule: AttendanceRule, local: dt.datetime) -> int | None:
    """The early-leave rule for a last check-out at ``local``, or None when it was not early."""
    if rule.shift_end is None or rule.early_leave_rule_id is None:
        return None
    end = dt.datetime.combine(local.date(), rule.shift_end, local.tzinfo)
    if local >= end:
        return None
    minutes_early = (end - local).total_seconds() / 60
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


async def close_early_leaves(
    session: AsyncSession, rule: AttendanceRule, day: dt.date, time_zone: str
) -> int:
    """Record early leaves for ``day``; returns how many were recorded now. The caller commits."""
    zone = ZoneInfo(time_zone)
    start = dt.datetime.combine(day, dt.time(), zone)
    last_out = (
        select(AttendancePunch.member_id, func.max(AttendancePunch.occurred_at))
        .join(Member, Member.id == AttendancePunch.member_id)
        .where(
            AttendancePunch.org_id == rule.org_id,
            AttendancePunch.occurred_at >= start,
            AttendancePunch.occurred_at < start + dt.timedelta(days=1),
            AttendancePunch.state == CHECK_OUT,
            Member.status == MemberStatus.ACTIVE,
        )
        .group_by(AttendancePunch.member_id)
        .order_by(AttendancePunch.member_id)
    )
    recorded = 0
    for member_id, occurred_at in (await session.execute(last_out)).all():
        assert member_id is not None  # the join with member excludes unknown PINs
        rule_id = rule_for_departure(rule, _aware(occurred_at).astimezone(zone))
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
