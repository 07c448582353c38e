"""The set-based store gives exactly the per-punch reference's results (hypothesis, both engines).

Random batches (several days and members, out of time order, on time / late / late bands, check-outs,
unknown and departed PINs, undeclared devices, other event kinds, NUL text, duplicate ids in a
batch, device re-reads under new ids, redelivered batches) go through ``handle_message`` once with
the reference store into one database and once with the set store into another. Every table ingest
writes is then compared row by row, surrogate ids replaced by what they point at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from cloud.db.migrate import upgrade_head
from cloud.db.models import (
    Agent,
    AgentEvent,
    AttendancePunch,
    AttendanceRule,
    Balance,
    LedgerEntry,
    Member,
    MemberStatus,
    PointRule,
    Quarantine,
)
from cloud.db.session import SessionFactory, create_engine, session_factory
from cloud.ingest.handling import BatchStore, handle_message
from cloud.ingest.store import store_batch
from cloud.ingest.store_per_punch import store_batch_per_punch
from firmware_protocols import sync
from tests.cloud import events, factories

START = dt.date(2026, 11, 16)
PINS = ("1", "2", "3", "4", "5", "9")  # 1-4 active members, 5 has left, 9 is nobody
_agents = itertools.count()

# One event: (pin, day, minutes after 08:00, state, kind, device, NUL in pin)
event_specs = st.tuples(
    st.sampled_from(PINS),
    st.integers(0, 2),
    st.integers(0, 24).map(lambda n: n * 10),
    st.sampled_from(list(sync.PunchState)),
    st.sampled_from(["punch"] * 6 + ["cmd_result"]),
    st.sampled_from(["zk-1"] * 5 + ["zk-2"]),
    st.integers(0, 30).map(lambda n: n == 0),
)
# How the events travel: batch sizes, then per batch the transport faults applied to it.
deliveries = st.lists(
    st.tuples(
        st.integers(1, 8),
        st.sampled_from(["plain", "plain", "duplicate_id", "reread", "redeliver", "reversed"]),
    ),
    min_size=1,
    max_size=5,
)


def random_deliveries(max_examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The property tests' cases: ``specs`` (events), ``plan`` (how they travel), ``declared``
    (the agent's devices, or none declared) and ``bands`` (a rule with late bands or without)."""

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        cases = given(
            specs=st.lists(event_specs, min_size=1, max_size=24),
            plan=deliveries,
            declared=st.sampled_from([None, ("zk-1",), ("zk-1", "zk-2")]),
            bands=st.booleans(),
        )
        limits = settings(
            max_examples=max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        return limits(cases(test))

    return decorate


@pytest.fixture
async def twin(db_url: str, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """Sessions on a second fresh database of the same backend as ``engine``."""
    url, admin, name = db_url, None, ""
    if db_url.startswith("postgresql"):
        base = make_url(db_url)
        name = f"mpm_twin_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(
            host=base.host, port=base.port, user=base.username, password=base.password, database="postgres"
        )
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'twin.db'}"
    engine = create_engine(url)
    await upgrade_head(engine)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


@random_deliveries(max_examples=30)
async def test_set_store_matches_the_per_punch_reference(
    engine: AsyncEngine,
    twin: SessionFactory,
    specs: list[tuple[str, int, int, sync.PunchState, str, str, bool]],
    plan: list[tuple[int, str]],
    declared: tuple[str, ...] | None,
    bands: bool,
) -> None:
    agent_id = f"site-{next(_agents)}"
    payloads = _payloads(specs, plan)
    reference = await _run(
        session_factory(engine), agent_id, declared, bands, payloads, store_batch_per_punch
    )
    ours = await _run(twin, agent_id, declared, bands, payloads, store_batch)
    assert ours == reference


async def test_the_comparison_sees_a_difference(engine: AsyncEngine, twin: SessionFactory) -> None:
    """Control: one late check-in the set path never saw makes the snapshots differ."""
    day = [("1", 0, 90, sync.PunchState.CHECK_IN, "punch", "zk-1", False)]
    payloads = _payloads(day, [(1, "plain")])
    reference = await _run(session_factory(engine), "site-c", None, False, payloads, store_batch_per_punch)
    ours = await _run(twin, "site-c", None, False, payloads[:0], store_batch)
    assert ours != reference
    assert ours["ledger"] == []
    assert reference["ledger"] != []


def _payloads(
    specs: list[tuple[str, int, int, sync.PunchState, str, str, bool]], plan: list[tuple[int, str]]
) -> list[bytes]:
    made = [_event(*spec) for spec in specs]
    payloads: list[bytes] = []
    for size, fault in plan:
        chunk, made = made[:size], made[size:]
        if not chunk:
            break
        if fault == "duplicate_id":
            chunk = [*chunk, chunk[0]]
        elif fault == "reread":
            chunk = [*chunk, dataclasses.replace(chunk[0], id=events.uuid7(), seq=chunk[0].seq + 10_000)]
        elif fault == "reversed":
            chunk = chunk[::-1]
        payloads.append(events.batch(*chunk))
        if fault == "redeliver":
            payloads.append(payloads[-1])
    return payloads


def _event(
    pin: str, day: int, minutes: int, state: sync.PunchState, kind: str, device: str, nul: bool
) -> sync.Event:
    at = events.local(START + dt.timedelta(days=day), 8) + dt.timedelta(minutes=minutes)
    event = dataclasses.replace(events.punch(pin + ("\x00" if nul else ""), at, state), device=device)
    if kind == "punch":
        return event
    return dataclasses.replace(
        event, kind=kind, data=sync.CommandResult(cmd_id="c", ok=True, detail=pin).to_data()
    )


async def _run(
    sessions: SessionFactory,
    agent_id: str,
    declared: tuple[str, ...] | None,
    bands: bool,
    payloads: list[bytes],
    store: BatchStore,
) -> dict[str, Any]:
    async with sessions() as session:
        org_id = await _tenant(session, agent_id, declared, bands)
        await session.commit()
    topic = sync.topic(agent_id, sync.Channel.EVENTS)
    outcomes = []
    for payload in payloads:
        outcome = await handle_message(sessions, topic, payload, store=store)
        outcomes.append((outcome.ack, outcome.changed_org is not None))
    async with sessions() as session:
        return {"outcomes": outcomes} | await _snapshot(session, org_id, topic)


async def _tenant(session: AsyncSession, agent_id: str, declared: tuple[str, ...] | None, bands: bool) -> int:
    t = await factories.tenant(session, f"Org {agent_id}")
    for pin in PINS[:5]:
        member = await factories.member(session, t.org_id, f"M{pin}", pin=pin)
        member.status = MemberStatus.LEFT if pin == "5" else MemberStatus.ACTIVE
    if bands:
        very_late = PointRule(org_id=t.org_id, name="very late", point_type_id=t.point_type_id, points=-3)
        session.add(very_late)
        await session.flush()
        rule = (
            await session.execute(select(AttendanceRule).where(AttendanceRule.org_id == t.org_id))
        ).scalar_one()
        # A band that maps back to the plain late rule: the rule is not monotone in the arrival time.
        rule.late_bands = [
            {"after_minutes": 30, "rule_id": very_late.id},
            {"after_minutes": 90, "rule_id": t.late_rule_id},
        ]
    status = None if declared is None else {"state": "online", "devices": {d: "up" for d in declared}}
    session.add(Agent(agent_id=agent_id, org_id=t.org_id, last_status=status))
    await session.flush()
    return t.org_id


async def _snapshot(session: AsyncSession, org_id: int, topic: str) -> dict[str, Any]:
    """Every row ingest wrote for the organisation, ids replaced by names and keys, sorted."""
    names = dict(
        (await session.execute(select(Member.id, Member.display_name).where(Member.org_id == org_id))).all()
    )
    rules = dict(
        (await session.execute(select(PointRule.id, PointRule.name).where(PointRule.org_id == org_id))).all()
    )
    ledger = list((await session.execute(select(LedgerEntry).where(LedgerEntry.org_id == org_id))).scalars())
    keys = {e.id: e.idempotency_key for e in ledger}
    punches = (
        await session.execute(select(AttendancePunch).where(AttendancePunch.org_id == org_id))
    ).scalars()
    others = (await session.execute(select(AgentEvent).where(AgentEvent.org_id == org_id))).scalars()
    balances = (await session.execute(select(Balance).where(Balance.org_id == org_id))).scalars()
    quarantined = (await session.execute(select(Quarantine).where(Quarantine.topic == topic))).scalars()
    refused = (await session.execute(select(Agent.refused_events).where(Agent.org_id == org_id))).scalar_one()
    return {
        "punches": sorted(
            (
                p.event_id,
                p.seq,
                p.device,
                p.pin,
                names.get(p.member_id or 0),
                p.occurred_at,
                p.device_time,
                p.received_at,
                p.verify_mode,
                p.state,
                p.dedup_key,
                keys.get(p.ledger_entry_id or 0),
            )
            for p in punches
        ),
        "agent_events": sorted(
            (e.event_id, e.seq, e.kind, e.device, e.occurred_at, repr(e.data)) for e in others
        ),
        "ledger": sorted(
            (
                e.idempotency_key,
                names[e.member_id],
                e.points,
                rules.get(e.rule_id or 0),
                e.reason,
                e.source,
                e.effective_date,
                e.status,
                keys.get(e.revokes_id or 0),
                e.event_id,
                e.attendance_day,
            )
            for e in ledger
        ),
        "ledger_order": [e.idempotency_key for e in sorted(ledger, key=lambda e: e.id)],
        "balances": sorted((names[b.member_id], b.period_kind, b.period_key, b.points) for b in balances),
        "quarantine": sorted(
            (q.payload_prefix, q.payload_size, q.payload_sha256, q.event_id, q.error) for q in quarantined
        ),
        "refused": refused,
    }
