"""What the scheduler must run, and by when: a pure function of an organisation and the time.

Rules (every time in the organisation's time zone)
- ``day_close`` of a day is due when the last shift of that day ends (the latest end among the
  rule's shift and every assigned shift; a cross-midnight shift ends the next morning) plus
  ``CLOSE_MARGIN`` for late check-outs. Only days since the attendance rule was created, and at most
  ``CATCH_UP_DAYS`` back, are closed: a cloud that was down closes what it missed, once, and a new
  organisation is not charged absences for days before it had a rule.
- ``month_close`` of the month before the current one is due with the day close of its last day
  (run after it), when the rule has a full-attendance rule.
- ``ranking_snapshot`` freezes, for each of week, month, quarter and year, the last ended period,
  with the day close of its last day; only periods that ended after the organisation was created.
- ``retention`` runs once per local day, at local midnight.
Jobs are derived, not stored: the plan is recomputed from the database on every tick, so a changed
shift or time zone needs no re-scheduling. What is persisted is what ran (``scheduler_run``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from zoneinfo import ZoneInfo

from cloud.domain.calendar import ShiftTimes
from cloud.domain.periods import PeriodKind, period_key

CATCH_UP_DAYS = 14
CLOSE_MARGIN = dt.timedelta(hours=1)
SNAPSHOT_KINDS = (PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)


class Job(enum.StrEnum):
    DAY_CLOSE = "day_close"
    MONTH_CLOSE = "month_close"
    RANKING_SNAPSHOT = "ranking_snapshot"
    RETENTION = "retention"


_ORDER = {job: rank for rank, job in enumerate(Job)}  # a day's close before its month's, etc.


@dataclasses.dataclass(frozen=True, slots=True)
class Due:
    job: Job
    org_id: int
    period: str  # "2026-11-16", "2026-11", "month:2026-11"
    due_at: dt.datetime  # UTC

    def sort_key(self) -> tuple[dt.datetime, int, str]:
        return (self.due_at, _ORDER[self.job], self.period)


@dataclasses.dataclass(frozen=True, slots=True)
class OrgPlan:
    """What the plan needs to know of one organisation."""

    org_id: int
    time_zone: str
    created_at: dt.datetime
    rule_created_at: dt.datetime | None  # None: no attendance rule
    closes_days: bool  # the rule has an absence or an early-leave rule
    full_attendance: bool  # the rule has a full-attendance rule
    shifts: tuple[ShiftTimes, ...]  # the rule's and every assigned shift


def due_jobs(plan: OrgPlan, now: dt.datetime) -> list[Due]:
    """Every job of the organisation whose time has come by ``now`` (ran or not), in run order."""
    zone = ZoneInfo(plan.time_zone)
    today = now.astimezone(zone).date()
    found = [Due(Job.RETENTION, plan.org_id, today.isoformat(), _midnight(today, zone))]
    found += _snapshots(plan, zone, today)
    if plan.rule_created_at is not None:
        since = plan.rule_created_at.astimezone(zone).date()
        if plan.closes_days:
            found += _day_closes(plan, zone, today, since)
        if plan.full_attendance:
            found += _month_close(plan, zone, today, since)
    return sorted((d for d in found if d.due_at <= now), key=Due.sort_key)


def close_due(plan: OrgPlan, day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """When ``day`` may be closed: after its last shift ends, plus the margin (UTC)."""
    ends = [s.ends_at(day, zone) for s in plan.shifts] or [_midnight(day + dt.timedelta(days=1), zone)]
    return (max(ends) + CLOSE_MARGIN).astimezone(dt.UTC)


def _day_closes(plan: OrgPlan, zone: ZoneInfo, today: dt.date, since: dt.date) -> list[Due]:
    first = max(since, today - dt.timedelta(days=CATCH_UP_DAYS))
    days = [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]
    return [Due(Job.DAY_CLOSE, plan.org_id, d.isoformat(), close_due(plan, d, zone)) for d in days]


def _month_close(plan: OrgPlan, zone: ZoneInfo, today: dt.date, since: dt.date) -> list[Due]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    if last < since:
        return []
    return [
        Due(Job.MONTH_CLOSE, plan.org_id, f"{last.year:04d}-{last.month:02d}", close_due(plan, last, zone))
    ]


def _snapshots(plan: OrgPlan, zone: ZoneInfo, today: dt.date) -> list[Due]:
    created = plan.created_at.astimezone(zone).date()
    found = []
    for kind in SNAPSHOT_KINDS:
        last = period_start(kind, today) - dt.timedelta(days=1)
        if last < created:
            continue
        period = f"{kind.value}:{period_key(kind, last)}"
        found.append(Due(Job.RANKING_SNAPSHOT, plan.org_id, period, close_due(plan, last, zone)))
    return found


def period_start(kind: PeriodKind, day: dt.date) -> dt.date:
    """The first day of the period of ``kind`` that contains ``day``."""
    if kind is PeriodKind.WEEK:
        return day - dt.timedelta(days=day.isoweekday() - 1)
    if kind is PeriodKind.MONTH:
        return day.replace(day=1)
    if kind is PeriodKind.QUARTER:
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if kind is PeriodKind.YEAR:
        return dt.date(day.year, 1, 1)
    return day


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
