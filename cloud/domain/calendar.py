"""Attendance calendars: which days are work days, which shift a member works, who is on leave.

Rules
- A day is a work day when the organisation's calendar says so: a public holiday never is, a
  make-up work day (调休) always is, any other day is when its ISO weekday is in ``work_weekdays``.
  An organisation with no calendar works every day (the behaviour before calendars).
- A member's shift: the member's own assignment, else their department's, else the organisation's
  attendance rule (``shift_start``/``shift_end``, no grace, no flexible hours).
- A shift whose end is at or before its start crosses midnight. Its punches belong to the shift
  day that started before them: the day boundary sits in the middle of the off-duty gap (a 22:00–06:00
  shift's day runs from 14:00 to 14:00), so a check-in at 00:30 is late for the previous day's shift.
  A shift within one calendar day keeps the calendar day as its day.
- Lateness counts from ``start + flexible_minutes``; up to ``grace_minutes`` of it is still on time.
  Flexible hours move the end too: leaving is early only before ``end`` plus the minutes the member
  arrived after ``start`` (at most ``flexible_minutes``).
- Leave excuses absence (no absence entry on a day of leave); it does not stop a check-in that day
  from scoring (the member came after all).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cloud.db.bind_lists import among, bound, dialect_of
from cloud.db.models import (
    AttendanceRule,
    CalendarDay,
    DayKind,
    LeaveRecord,
    Member,
    Shift,
    ShiftAssignment,
    WorkCalendar,
)

EVERY_DAY = frozenset(range(1, 8))
MIDNIGHT = dt.time()


@dataclasses.dataclass(frozen=True, slots=True)
class ShiftTimes:
    """The hours a member is expected; ``end`` None: no end (no early leave, day ends at midnight)."""

    start: dt.time
    end: dt.time | None
    grace_minutes: int = 0
    flexible_minutes: int = 0

    @property
    def crosses_midnight(self) -> bool:
        return self.end is not None and self.end <= self.start

    def day_of(self, local: dt.datetime) -> dt.date:
        """The shift day a local moment belongs to (see the module rules)."""
        if not self.crosses_midnight:
            return local.date()
        boundary = self._boundary(local.date(), local.tzinfo)
        return local.date() if local >= boundary else local.date() - dt.timedelta(days=1)

    def window(self, day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the moments that belong to shift day ``day``."""
        if not self.crosses_midnight:
            first = dt.datetime.combine(day, MIDNIGHT, zone)
            return first, dt.datetime.combine(day + dt.timedelta(days=1), MIDNIGHT, zone)
        first = self._boundary(day, zone)
        return first, self._boundary(day + dt.timedelta(days=1), zone)

    def starts_at(self, day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
        return dt.datetime.combine(day, self.start, zone)

    def ends_at(self, day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
        """When shift day ``day`` ends (midnight after it when the shift has no end)."""
        if self.end is None:
            return dt.datetime.combine(day + dt.timedelta(days=1), MIDNIGHT, zone)
        end_day = day + dt.timedelta(days=1) if self.crosses_midnight else day
        return dt.datetime.combine(end_day, self.end, zone)

    def minutes_late(self, local: dt.datetime, day: dt.date) -> float:
        """Minutes after ``start + flexible_minutes`` (negative when earlier)."""
        due = self.starts_at(day, local.tzinfo) + dt.timedelta(minutes=self.flexible_minutes)
        return (local - due).total_seconds() / 60

    def minutes_early(self, last_out: dt.datetime, first_in: dt.datetime | None, day: dt.date) -> float:
        """Minutes before the (flexible) end a last check-out was; negative or zero: not early."""
        end = self.ends_at(day, last_out.tzinfo)
        if first_in is not None and self.flexible_minutes:
            after_start = (first_in - self.starts_at(day, last_out.tzinfo)).total_seconds() / 60
            end += dt.timedelta(minutes=min(max(after_start, 0), self.flexible_minutes))
        return (end - last_out).total_seconds() / 60

    def _boundary(self, day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
        assert self.end is not None
        end = dt.datetime.combine(day, self.end, zone)
        gap = dt.datetime.combine(day, self.start, zone) - end
        return end + gap / 2


def rule_shift(rule: AttendanceRule) -> ShiftTimes:
    """The organisation-wide shift of an attendance rule."""
    return ShiftTimes(rule.shift_start, rule.shift_end)


def shift_times(shift: Shift) -> ShiftTimes:
    return ShiftTimes(shift.start, shift.end, shift.grace_minutes, shift.flexible_minutes)


@dataclasses.dataclass(frozen=True, slots=True)
class Calendar:
    """An organisation's work week and the dated exceptions loaded for a span of days."""

    work_weekdays: frozenset[int] = EVERY_DAY
    exceptions: dict[dt.date, str] = dataclasses.field(default_factory=dict)

    def is_work_day(self, day: dt.date) -> bool:
        kind = self.exceptions.get(day)
        if kind is not None:
            return kind == DayKind.WORKDAY
        return day.isoweekday() in self.work_weekdays


async def load_calendar(session: AsyncSession, org_id: int, first: dt.date, last: dt.date) -> Calendar:
    """The calendar with its exceptions from ``first`` to ``last`` (inclusive; two selects)."""
    week = await session.get(WorkCalendar, org_id)
    days = await session.execute(_CALENDAR_DAYS, {"org_id": org_id, "first": first, "last": last})
    exceptions = {day: kind for day, kind in days.all()}
    weekdays = EVERY_DAY if week is None else frozenset(week.work_weekdays)
    return Calendar(weekdays, exceptions)


# The dated exceptions of ``:org_id`` from ``:first`` to ``:last``: a range probe of ``(org_id, day)``.
_CALENDAR_DAYS: Select[dt.date, str] = select(CalendarDay.day, CalendarDay.kind).where(
    CalendarDay.org_id == bindparam("org_id"),
    CalendarDay.day >= bindparam("first"),
    CalendarDay.day <= bindparam("last"),
)


def calendar_days_query(org_id: int, first: dt.date, last: dt.date) -> Select[dt.date, str]:
    """The dated exceptions from ``first`` to ``last``, values bound (for plan checks)."""
    return _CALENDAR_DAYS.params(org_id=org_id, first=first, last=last)


async def member_shifts(
    session: AsyncSession, org_id: int, default: ShiftTimes, member_ids: Iterable[int] | None = None
) -> dict[int, ShiftTimes]:
    """Each member's shift (own assignment, department's, else ``default``), in one select.

    ``member_ids`` None: every member of the organisation.
    """
    shifts: dict[int, ShiftTimes] = {}
    dialect = dialect_of(session)
    query = member_shifts_statement(dialect, some=member_ids is not None)
    params: dict[str, object] = {"org_id": org_id}
    if member_ids is not None:
        params["member_ids"] = bound(sorted(set(member_ids)), dialect)
    for member_id, mine, theirs in (await session.execute(query, params)).all():
        chosen = mine or theirs
        shifts[member_id] = default if chosen is None else shift_times(chosen)
    return shifts


@functools.cache
def member_shifts_statement(dialect: str, *, some: bool) -> Select[int, Shift, Shift]:
    """(member id, own shift or None, department's shift or None) for the members of ``:org_id``
    (``some``: only those in ``:member_ids``, bound with ``bind_lists.bound``); every join an index
    probe. Built once per engine: its four aliases alone cost more to make than the query to run.
    """
    own, dept = aliased(ShiftAssignment), aliased(ShiftAssignment)
    own_shift, dept_shift = aliased(Shift), aliased(Shift)
    org_id: BindParameter[int] = bindparam("org_id")
    query = (
        select(Member.id, own_shift, dept_shift)
        .outerjoin(own, and_(own.org_id == org_id, own.member_id == Member.id))
        .outerjoin(own_shift, own_shift.id == own.shift_id)
        .outerjoin(dept, and_(dept.org_id == org_id, dept.department_id == Member.department_id))
        .outerjoin(dept_shift, dept_shift.id == dept.shift_id)
        .where(Member.org_id == org_id)
    )
    return query.where(among(Member.id, "member_ids", dialect)) if some else query


async def on_leave(session: AsyncSession, org_id: int, day: dt.date) -> set[int]:
    """The members whose leave covers ``day``."""
    query = select(LeaveRecord.member_id).where(
        LeaveRecord.org_id == org_id, LeaveRecord.first_day <= day, LeaveRecord.last_day >= day
    )
    return set((await session.execute(query)).scalars())


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    """The calendar date of ``moment`` in ``time_zone``."""
    return moment.astimezone(ZoneInfo(time_zone)).date()
