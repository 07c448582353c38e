"""The scheduler's runs: claim a due job in the database, run it, record it; exactly once per period.

Rules
- A run is claimed in the job's own transaction, before the job does anything: ``INSERT … ON
  CONFLICT DO NOTHING`` of the row ``(job, org_id, period)`` (unique). Of several cloud workers the
  one whose insert lands runs the job; the others' inserts wait for its transaction (PostgreSQL
  row lock, SQLite's single writer) and then find the row, so they skip. The job's changes and its
  ``done`` row commit together: a crash mid-job leaves neither, and the job is due again.
- A job that raises is rolled back and recorded ``failed`` (with the error) in a transaction of its
  own; the next tick claims it again (an ``UPDATE … WHERE status = 'failed'``, again one winner),
  up to ``MAX_ATTEMPTS`` tries.
- Jobs are idempotent on their own as well (closing keys, "already frozen", retention's cut-offs):
  a job run twice by hand changes nothing the second time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import CursorResult, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import AttendanceRule, Organisation, PointType, SchedulerRun, Shift, ShiftAssignment
from cloud.db.session import SessionFactory
from cloud.domain import (
    attendance,
    attendance_completeness,
    attendance_days,
    audit_log,
    calendar,
    ranking,
    retention,
    snapshots,
)
from cloud.domain.periods import PeriodKind
from cloud.domain.schedule import Due, Job, OrgPlan, due_jobs

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
DONE, FAILED = "done", "failed"

JobRun = Callable[[AsyncSession, Organisation, Due, dt.datetime], Awaitable[dict[str, Any]]]


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    due: Due
    status: str
    detail: dict[str, Any]


async def run_due(sessions: SessionFactory, now: dt.datetime, worker: str) -> list[Outcome]:
    """Run every due job of every organisation that has not run yet (oldest first)."""
    async with sessions() as session:
        plans = await load_plans(session)
        due = [d for plan in plans for d in due_jobs(plan, now)]
        todo = await _not_yet_run(session, due)
    outcomes = []
    for item in sorted(todo, key=Due.sort_key):
        outcome = await run_one(sessions, item, now, worker)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


async def run_one(sessions: SessionFactory, due: Due, now: dt.datetime, worker: str) -> Outcome | None:
    """Claim and run one job; None when another worker has it (or had it)."""
    async with sessions() as session:
        if not await _claim(session, due, now, worker):
            await session.rollback()
            return None
        try:
            org = await session.get_one(Organisation, due.org_id)
            detail = await JOBS[due.job](session, org, due, now)
            await session.execute(
                update(SchedulerRun).where(*_key(due)).values(detail=detail, finished_at=now)
            )
            await session.commit()
            return Outcome(due, DONE, detail)
        except Exception as exc:
            await session.rollback()
            log.exception("scheduled %s for organisation %d (%s) failed", due.job, due.org_id, due.period)
            error = f"{type(exc).__name__}: {exc}"[:2000]
    await _record_failure(sessions, due, now, worker, error)
    return Outcome(due, FAILED, {"error": error})


async def load_plans(session: AsyncSession) -> list[OrgPlan]:
    """Every organisation's plan inputs, in three selects (organisations, rules, assigned shifts)."""
    orgs = (await session.execute(select(Organisation).order_by(Organisation.id))).scalars().all()
    rules: dict[int, AttendanceRule] = {}
    for found in (await session.execute(select(AttendanceRule).order_by(AttendanceRule.id))).scalars():
        rules[found.org_id] = found  # the newest wins, as ``attendance.current_rule``
    assigned = select(Shift).where(Shift.id.in_(select(ShiftAssignment.shift_id)))
    shifts: dict[int, list[calendar.ShiftTimes]] = {}
    for shift in (await session.execute(assigned)).scalars():
        shifts.setdefault(shift.org_id, []).append(calendar.shift_times(shift))
    plans = []
    for org in orgs:
        rule = rules.get(org.id)
        own = tuple(shifts.get(org.id, []))
        plans.append(
            OrgPlan(
                org_id=org.id,
                time_zone=org.time_zone,
                created_at=org.created_at,
                rule_created_at=None if rule is None else rule.created_at,
                closes_days=rule is not None
                and (rule.absence_rule_id or rule.early_leave_rule_id) is not None,
                full_attendance=rule is not None and rule.full_attendance_rule_id is not None,
                shifts=own if rule is None else (calendar.rule_shift(rule), *own),
            )
        )
    return plans


async def _not_yet_run(session: AsyncSession, due: list[Due]) -> list[Due]:
    """The due jobs with no done run (nor a failed one out of attempts): one select."""
    if not due:
        return []
    keys = {(d.job.value, d.org_id, d.period) for d in due}
    query = select(SchedulerRun.job, SchedulerRun.org_id, SchedulerRun.period).where(
        tuple_(SchedulerRun.job, SchedulerRun.org_id, SchedulerRun.period).in_(sorted(keys)),
        (SchedulerRun.status == DONE) | (SchedulerRun.attempts >= MAX_ATTEMPTS),
    )
    finished = {tuple(row) for row in (await session.execute(query)).all()}
    return [d for d in due if (d.job.value, d.org_id, d.period) not in finished]


def _key(due: Due) -> tuple[Any, ...]:
    return (
        SchedulerRun.job == due.job.value,
        SchedulerRun.org_id == due.org_id,
        SchedulerRun.period == due.period,
    )


async def _claim(session: AsyncSession, due: Due, now: dt.datetime, worker: str) -> bool:
    retry = (
        update(SchedulerRun)
        .where(*_key(due), SchedulerRun.status == FAILED, SchedulerRun.attempts < MAX_ATTEMPTS)
        .values(status=DONE, attempts=SchedulerRun.attempts + 1, worker=worker, started_at=now, error=None)
    )
    if _count(await session.execute(retry)):
        return True
    return await _insert(session, due, now, worker, DONE, None)


async def _record_failure(
    sessions: SessionFactory, due: Due, now: dt.datetime, worker: str, error: str
) -> None:
    async with sessions() as session:
        failed = update(SchedulerRun).where(*_key(due), SchedulerRun.status == FAILED).values(error=error)
        if not _count(await session.execute(failed)):
            await _insert(session, due, now, worker, FAILED, error)
        await session.commit()


async def _insert(
    session: AsyncSession, due: Due, now: dt.datetime, worker: str, status: str, error: str | None
) -> bool:
    """Insert the run row unless the key exists; whether this call inserted it."""
    values: dict[str, Any] = {
        "job": due.job.value,
        "org_id": due.org_id,
        "period": due.period,
        "status": status,
        "attempts": 1,
        "due_at": due.due_at,
        "started_at": now,
        "finished_at": now if status == FAILED else None,
        "worker": worker[:64],
        "detail": {},
        "error": error,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(SchedulerRun)
        .values(values)
        .on_conflict_do_nothing(index_elements=["job", "org_id", "period"])
    )
    return _count(await session.execute(statement)) == 1


def _count(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


async def _day_close(session: AsyncSession, org: Organisation, due: Due, now: dt.datetime) -> dict[str, Any]:
    done = await attendance_days.close_day(session, org.id, dt.date.fromisoformat(due.period), org.time_zone)
    detail = {
        "day": due.period,
        "absences": done.absences,
        "early_leaves": done.early_leaves,
        "work_day": done.work_day,
    }
    await audit_log.record(session, org.id, audit_log.SYSTEM, "attendance.close_day", "attendance:*", detail)
    return detail


async def _month_close(
    session: AsyncSession, org: Organisation, due: Due, now: dt.datetime
) -> dict[str, Any]:
    rule = await attendance.current_rule(session, org.id)
    assert rule is not None  # the plan has a month close only with a rule
    year, month = (int(part) for part in due.period.split("-"))
    today = calendar.local_date(now, org.time_zone)
    awarded = await attendance_completeness.close_month(session, rule, year, month, today)
    detail = {"year": year, "month": month, "awarded": awarded}
    await audit_log.record(
        session, org.id, audit_log.SYSTEM, "attendance.close_month", "attendance:*", detail
    )
    return detail


async def _snapshot(session: AsyncSession, org: Organisation, due: Due, now: dt.datetime) -> dict[str, Any]:
    kind, key = due.period.split(":", 1)
    types = select(PointType.id).where(PointType.org_id == org.id).order_by(PointType.id)
    today = calendar.local_date(now, org.time_zone)
    frozen = []
    for point_type_id in (await session.execute(types)).scalars():
        scope = ranking.Scope(org_id=org.id, point_type_id=point_type_id, period_kind=kind, period_key=key)
        try:
            snapshot = await snapshots.freeze(session, scope, org.time_zone, None, None, today)
        except snapshots.SnapshotError:
            continue  # frozen already (by hand, or by an earlier run): nothing to do
        frozen.append(snapshot.id)
    return {"period_kind": PeriodKind(kind).value, "period_key": key, "snapshot_ids": frozen}


async def _retention(session: AsyncSession, org: Organisation, due: Due, now: dt.datetime) -> dict[str, Any]:
    return dict(retention.as_json(await retention.apply_retention(session, org, now)))


JOBS: dict[Job, JobRun] = {
    Job.DAY_CLOSE: _day_close,
    Job.MONTH_CLOSE: _month_close,
    Job.RANKING_SNAPSHOT: _snapshot,
    Job.RETENTION: _retention,
}
