"""The scheduler: due jobs in the organisation's time zone, caught up after downtime, exactly once
across workers, failures recorded and retried, runs listed by the API; injected clocks, no sleeps."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db.models import (
    Agent,
    AttendanceRule,
    AuditEntry,
    LedgerEntry,
    Organisation,
    PointRule,
    SchedulerRun,
)
from cloud.db.session import SessionFactory, create_engine, session_factory
from cloud.domain import scheduler
from cloud.domain.schedule import Due, Job
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import events, factories
from tests.cloud.test_api import auth

Key = tuple[str, str]


async def _org(sessions: SessionFactory, created: dt.datetime) -> tuple[factories.Tenant, dict[str, int]]:
    """Alice (1) and Bob (2); a 09:00–18:00 rule with absence −5 and full attendance +10, created at
    ``created`` (as is the organisation); agent site-1."""
    async with sessions() as session:
        t = await factories.tenant(session, "Acme")
        ids = {
            name: (await factories.member(session, t.org_id, name, pin=pin)).id
            for name, pin in (("Alice", "1"), ("Bob", "2"))
        }
        absent = PointRule(
            org_id=t.org_id, category="attendance", name="absent", point_type_id=t.point_type_id, points=-5
        )
        full = PointRule(
            org_id=t.org_id, category="attendance", name="full", point_type_id=t.point_type_id, points=10
        )
        session.add_all([absent, full, Agent(agent_id="site-1", org_id=t.org_id)])
        await session.flush()
        session.add(
            AttendanceRule(
                org_id=t.org_id,
                shift_start=dt.time(9),
                shift_end=dt.time(18),
                on_time_rule_id=t.on_time_rule_id,
                late_rule_id=t.late_rule_id,
                absence_rule_id=absent.id,
                full_attendance_rule_id=full.id,
            )
        )
        await session.flush()
        await session.execute(
            update(AttendanceRule).where(AttendanceRule.org_id == t.org_id).values(created_at=created)
        )
        await session.execute(
            update(Organisation).where(Organisation.id == t.org_id).values(created_at=created)
        )
        await session.commit()
    return t, ids


def _keys(outcomes: list[scheduler.Outcome]) -> list[Key]:
    return [(o.due.job.value, o.due.period) for o in outcomes]


async def _count(
    sessions: SessionFactory, model: type[AuditEntry] | type[LedgerEntry], *where: object
) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()  # type: ignore[arg-type]


async def test_a_missed_day_close_runs_once_after_downtime(app: FastAPI, client: httpx.AsyncClient) -> None:
    await app.state.scheduler.aclose()  # this test drives the clock itself
    sessions: SessionFactory = app.state.sessions
    monday = dt.date(2026, 11, 16)
    t, ids = await _org(sessions, events.local(monday, 8))
    topic = sync.topic("site-1", sync.Channel.EVENTS)
    await handle_message(sessions, topic, events.batch(events.punch("2", events.local(monday, 8, 50))))

    before_end = await scheduler.run_due(sessions, events.local(monday, 17), "w1")
    assert _keys(before_end) == [("retention", "2026-11-16")]  # Monday's close is due at 19:00, not yet
    # The cloud is down from 17:00 until Tuesday 08:00: Monday's close runs when it is back, once.
    back = await scheduler.run_due(sessions, events.local(monday + dt.timedelta(days=1), 8), "w1")
    assert _keys(back) == [("day_close", "2026-11-16"), ("retention", "2026-11-17")]
    assert back[0].detail == {"day": "2026-11-16", "absences": 1, "early_leaves": 0, "work_day": True}
    again = await scheduler.run_due(sessions, events.local(monday + dt.timedelta(days=1), 8, 5), "w2")
    assert again == []
    absences = (LedgerEntry.member_id == ids["Alice"], LedgerEntry.points == -5)
    assert await _count(sessions, LedgerEntry, *absences) == 1
    assert await _count(sessions, AuditEntry, AuditEntry.action == "attendance.close_day") == 1

    # Down again until 1 December: every missed day is closed (oldest first), then the month, then
    # the snapshots of the week and the month that ended.
    december = await scheduler.run_due(sessions, events.local(dt.date(2026, 12, 1), 8), "w1")
    jobs = Counter(job for job, _ in _keys(december))
    assert jobs == {"day_close": 14, "month_close": 1, "ranking_snapshot": 2, "retention": 1}
    order = _keys(december)
    assert order.index(("day_close", "2026-11-30")) < order.index(("month_close", "2026-11"))
    assert ("ranking_snapshot", "month:2026-11") in order
    assert ("ranking_snapshot", "week:2026-W48") in order

    h = auth(t.token)
    listed = (await client.get("/api/v1/scheduler/runs?job=day_close&limit=100", headers=h)).json()
    assert sorted(r["period"] for r in listed) == [f"2026-11-{d:02d}" for d in range(16, 31)]
    assert {r["status"] for r in listed} == {"done"}
    bad = await client.get("/api/v1/scheduler/runs?job=nope", headers=h)
    assert bad.status_code == 422


async def test_two_workers_run_each_job_once(
    engine: AsyncEngine, db_url: str, sessions: SessionFactory
) -> None:
    t, _ = await _org(sessions, events.local(dt.date(2026, 11, 10), 8))
    org_id = t.org_id
    other = create_engine(db_url)  # a second cloud worker: its own engine and connections
    try:
        now = events.local(dt.date(2026, 11, 17), 8)
        first, second = await asyncio.gather(
            scheduler.run_due(sessions, now, "worker-a"),
            scheduler.run_due(session_factory(other), now, "worker-b"),
        )
        ran = _keys(first) + _keys(second)
        assert len(ran) == len(set(ran)) == 9  # 7 day closes, the week's snapshot, retention: each once
        assert all(o.status == scheduler.DONE for o in first + second)
        closes = AuditEntry.action == "attendance.close_day"
        assert await _count(sessions, AuditEntry, closes) == 7
        async with sessions() as session:
            runs = (await session.execute(select(SchedulerRun.worker))).scalars().all()
        assert len(runs) == 9
        # The same job claimed by both workers at once: one runs it, the other stands aside.
        due = Due(Job.DAY_CLOSE, org_id, "2026-11-17", now)
        both = await asyncio.gather(
            scheduler.run_one(sessions, due, now, "worker-a"),
            scheduler.run_one(session_factory(other), due, now, "worker-b"),
        )
        assert sorted(o is None for o in both) == [False, True]
        assert await _count(sessions, AuditEntry, closes) == 8
        # Control: a job whose run row is gone runs again, and the audit count shows the second run.
        async with sessions() as session:
            await session.execute(delete(SchedulerRun).where(SchedulerRun.period == "2026-11-16"))
            await session.commit()
        rerun = await scheduler.run_due(sessions, now, "worker-a")
        assert _keys(rerun) == [("day_close", "2026-11-16")]
        assert await _count(sessions, AuditEntry, closes) == 9
    finally:
        await other.dispose()


async def test_a_failed_job_is_recorded_and_retried(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _org(sessions, events.local(dt.date(2026, 11, 16), 8))
    now = events.local(dt.date(2026, 11, 16), 10)

    async def broken(*_: object) -> dict[str, object]:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setitem(scheduler.JOBS, Job.RETENTION, broken)
        failed = await scheduler.run_due(sessions, now, "w1")
    assert [(o.status, o.detail) for o in failed] == [("failed", {"error": "RuntimeError: disk full"})]
    async with sessions() as session:
        run = (await session.execute(select(SchedulerRun))).scalar_one()
    assert (run.status, run.attempts, run.error) == ("failed", 1, "RuntimeError: disk full")
    retried = await scheduler.run_due(sessions, now, "w1")
    assert [o.status for o in retried] == ["done"]
    async with sessions() as session:
        run = (await session.execute(select(SchedulerRun))).scalar_one()
    assert (run.status, run.attempts, run.error) == ("done", 2, None)
    assert await scheduler.run_due(sessions, now, "w1") == []
