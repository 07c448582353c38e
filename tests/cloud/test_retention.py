"""Retention (PRIVACY.md RET-1): old punches deleted, long-gone members anonymised, audited, idempotent."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys

from sqlalchemy import func, select

from cloud.db.base import utc_now
from cloud.db.models import Agent, AttendancePunch, AuditEntry, Balance, Member, MemberStatus, Organisation
from cloud.db.session import SessionFactory
from cloud.domain.retention import apply_retention, months_before
from cloud.scheduling import CloudScheduler
from tests.cloud import factories
from tests.support.polling import async_wait_for

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def test_months_before_clamps_the_day() -> None:
    assert months_before(dt.datetime(2026, 3, 31, tzinfo=dt.UTC), 1) == dt.datetime(
        2026, 2, 28, tzinfo=dt.UTC
    )
    assert months_before(NOW, 13) == dt.datetime(2025, 10, 20, 12, tzinfo=dt.UTC)
    assert months_before(NOW, 24) == dt.datetime(2024, 11, 20, 12, tzinfo=dt.UTC)


async def _seed(sessions: SessionFactory, now: dt.datetime = NOW) -> dict[str, int]:
    """One organisation: punches 14 and 12 months old; members left 3 years ago, 1 year ago, active."""
    async with sessions() as session:
        t = await factories.tenant(session, "Acme")
        agent = Agent(agent_id="site-1", org_id=t.org_id)
        session.add(agent)
        ids = {"org": t.org_id}
        for name, left in [
            ("Gone", NOW - dt.timedelta(days=3 * 365)),
            ("Recent", NOW - dt.timedelta(days=365)),
        ]:
            member = await factories.member(session, t.org_id, name, pin=name)
            member.status, member.left_at = MemberStatus.LEFT, left
            await factories.award(session, t, member.id, 5, dt.date(2023, 1, 2), f"award-{name}")
            ids[name] = member.id
        ids["Active"] = (await factories.member(session, t.org_id, "Active", pin="Active")).id
        await session.flush()
        for age_days in (14 * 31, 12 * 30):
            at = now - dt.timedelta(days=age_days)
            session.add(_punch(t.org_id, agent.id, ids["Active"], at))
        await session.commit()
    return ids


def _punch(org_id: int, agent_pk: int, member_id: int, at: dt.datetime) -> AttendancePunch:
    return AttendancePunch(
        org_id=org_id,
        agent_pk=agent_pk,
        event_id=f"e-{at.timestamp()}",
        seq=1,
        device="zk-1",
        pin="Active",
        member_id=member_id,
        occurred_at=at,
        device_time=at.isoformat(),
        received_at=at,
        verify_mode="fingerprint",
        state="check_in",
        dedup_key=f"d-{at.timestamp()}",
    )


async def _punch_count(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(AttendancePunch))).scalar_one()


async def test_retention_applies_the_defaults_once(sessions: SessionFactory) -> None:
    ids = await _seed(sessions)
    async with sessions() as session:
        org = await session.get_one(Organisation, ids["org"])
        report = await apply_retention(session, org, NOW)
        await session.commit()
    assert (report.punches_deleted, report.members_anonymised) == (1, 1)
    assert await _punch_count(sessions) == 1  # the 12-month-old punch stays (default 13 months)
    async with sessions() as session:
        gone, recent = (
            await session.get_one(Member, ids["Gone"]),
            await session.get_one(Member, ids["Recent"]),
        )
        assert (gone.status, gone.display_name, gone.pin, gone.legal_name) == (
            "erased",
            f"erased-{gone.id}",
            None,
            None,
        )
        assert recent.status == MemberStatus.LEFT  # control: left only a year ago
        balance = select(Balance.points).where(Balance.member_id == gone.id, Balance.period_kind == "all")
        assert (await session.execute(balance)).scalar_one() == 5  # the ledger stays, on the pseudonym
        audit = select(AuditEntry.fields).where(AuditEntry.action == "retention.apply")
        assert [
            json.loads(f)["detail"]["members_anonymised"] for f in (await session.execute(audit)).scalars()
        ] == [1]
        again = await apply_retention(session, org, NOW)
        await session.commit()
        assert (again.punches_deleted, again.members_anonymised) == (0, 0)  # idempotent
        assert len((await session.execute(audit)).all()) == 1  # a run that changes nothing is not audited
        org.settings = {**org.settings, "punch_retention_months": 6}
        shorter = await apply_retention(session, org, NOW)
        await session.commit()
    assert shorter.punches_deleted == 1  # the organisation's own setting counts
    assert await _punch_count(sessions) == 0


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloud.cli", "--log-level", "WARNING", "retention", "run", *args],
        env=os.environ | {"MPM_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_dry_run_changes_nothing(db_url: str, sessions: SessionFactory) -> None:
    ids = await _seed(sessions, utc_now())  # the CLI uses the real clock
    dry = await asyncio.to_thread(_cli, db_url, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["org_id"], report["dry_run"], report["members_anonymised"]) == (ids["org"], True, 1)
    assert await _punch_count(sessions) == 2  # nothing changed
    real = await asyncio.to_thread(_cli, db_url)
    assert real.returncode == 0, real.stderr
    assert "1 member(s) anonymised" in real.stdout
    async with sessions() as session:
        assert (await session.get_one(Member, ids["Gone"])).status == MemberStatus.ERASED


async def test_the_scheduler_runs_retention(sessions: SessionFactory) -> None:
    ids = await _seed(sessions, utc_now())
    clock = CloudScheduler(sessions, tick_s=3600)
    clock.start()  # the first tick is at start-up
    try:

        async def anonymised() -> bool:
            async with sessions() as session:
                return (await session.get_one(Member, ids["Gone"])).status == MemberStatus.ERASED

        await async_wait_for(anonymised, what="the scheduled retention run")
    finally:
        await clock.aclose()
