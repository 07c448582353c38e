"""Attendance → points through the ingest path (no broker): on time, late, second punch, identity refusals."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from cloud.db.models import Agent, AgentEvent, AttendancePunch, LedgerEntry, MemberStatus, Quarantine
from cloud.db.session import SessionFactory
from cloud.domain import ranking
from cloud.ingest import handling
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import events, factories
from tests.cloud.factories import Tenant

DAY = dt.date(2026, 11, 16)
TOPIC = sync.topic("site-1", sync.Channel.EVENTS)


async def setup(sessions: SessionFactory) -> Tenant:
    async with sessions() as session:
        t = await factories.tenant(session)
        await factories.member(session, t.org_id, "Alice", pin="1")
        await factories.member(session, t.org_id, "Bob", pin="2")
        session.add(Agent(agent_id="site-1", org_id=t.org_id))
        await session.commit()
    return t


async def entries(sessions: SessionFactory) -> list[tuple[str, int, dt.date]]:
    async with sessions() as session:
        query = select(LedgerEntry.idempotency_key, LedgerEntry.points, LedgerEntry.effective_date)
        rows = (await session.execute(query.order_by(LedgerEntry.id))).all()
        return [(key, points, day) for key, points, day in rows]


async def punch_count(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(AttendancePunch))).scalar_one())


async def test_on_time_and_late_first_check_ins(sessions: SessionFactory) -> None:
    await setup(sessions)
    outcome = await handle_message(
        sessions,
        TOPIC,
        events.batch(events.punch("1", events.local(DAY, 8, 55)), events.punch("2", events.local(DAY, 9, 1))),
    )
    assert outcome.changed_org is not None
    points = sorted(p for _, p, _ in await entries(sessions))
    assert points == [-1, 2]


async def test_exactly_at_shift_start_is_on_time(sessions: SessionFactory) -> None:
    await setup(sessions)
    await handle_message(sessions, TOPIC, events.batch(events.punch("1", events.local(DAY, 9, 0))))
    assert [p for _, p, _ in await entries(sessions)] == [2]


async def test_later_punches_of_the_same_local_day_create_no_entry(sessions: SessionFactory) -> None:
    await setup(sessions)
    await handle_message(sessions, TOPIC, events.batch(events.punch("1", events.local(DAY, 8, 30))))
    second = await handle_message(sessions, TOPIC, events.batch(events.punch("1", events.local(DAY, 10, 0))))
    assert second.changed_org is None
    assert [p for _, p, _ in await entries(sessions)] == [2]
    assert await punch_count(sessions) == 2
    # control: the next local day scores again
    await handle_message(
        sessions, TOPIC, events.batch(events.punch("1", events.local(DAY + dt.timedelta(days=1), 9, 30)))
    )
    assert [p for _, p, _ in await entries(sessions)] == [2, -1]


async def test_the_earliest_punch_in_one_batch_decides(sessions: SessionFactory) -> None:
    await setup(sessions)
    late, early = events.punch("1", events.local(DAY, 9, 30)), events.punch("1", events.local(DAY, 8, 0))
    await handle_message(sessions, TOPIC, events.batch(late, early))
    assert [p for _, p, _ in await entries(sessions)] == [2]


async def test_local_day_is_the_organisations_not_utc(sessions: SessionFactory) -> None:
    await setup(sessions)
    # 00:30 Shanghai on the 17th is 16:30 UTC on the 16th: it counts for the 17th
    await handle_message(
        sessions, TOPIC, events.batch(events.punch("1", events.local(DAY + dt.timedelta(days=1), 0, 30)))
    )
    assert [d for _, _, d in await entries(sessions)] == [DAY + dt.timedelta(days=1)]


async def test_unknown_pin_is_refused_alone_and_counted(sessions: SessionFactory) -> None:
    await setup(sessions)
    stranger, alice = events.punch("99", events.local(DAY, 8, 0)), events.punch("1", events.local(DAY, 8, 1))
    outcome = await handle_message(sessions, TOPIC, events.batch(stranger, alice))
    assert outcome.ack is not None
    assert set(outcome.ack.event_ids) == {stranger.id, alice.id}
    assert [p for _, p, _ in await entries(sessions)] == [2]  # the neighbour is stored and scored
    async with sessions() as session:
        stored = (await session.execute(select(AttendancePunch.pin))).scalars().all()
        kept = (await session.execute(select(Quarantine))).scalar_one()
        agent = (await session.execute(select(Agent))).scalar_one()
    assert stored == ["1"]
    assert (kept.event_id, kept.error.split(":")[0]) == (stranger.id, "identity.unknown_pin")
    assert agent.refused_events == 1


async def test_pin_of_a_member_who_left_is_stored_without_entry(sessions: SessionFactory) -> None:
    t = await setup(sessions)
    async with sessions() as session:
        gone = await factories.member(session, t.org_id, "Carol", pin="3")
        gone.status = MemberStatus.LEFT
        await session.commit()
    outcome = await handle_message(sessions, TOPIC, events.batch(events.punch("3", events.local(DAY, 8, 0))))
    assert outcome.ack is not None
    assert await entries(sessions) == []
    async with sessions() as session:
        stored = (await session.execute(select(AttendancePunch))).scalar_one()
    assert (stored.pin, stored.member_id, stored.ledger_entry_id) == ("3", None, None)


async def test_check_out_earns_nothing(sessions: SessionFactory) -> None:
    await setup(sessions)
    await handle_message(
        sessions, TOPIC, events.batch(events.punch("1", events.local(DAY, 8, 0), sync.PunchState.CHECK_OUT))
    )
    assert await entries(sessions) == []


async def test_the_same_batch_twice_at_once_is_stored_once_and_acked_twice(sessions: SessionFactory) -> None:
    await setup(sessions)
    payload = events.batch(
        events.punch("1", events.local(DAY, 8, 0)), events.punch("2", events.local(DAY, 9, 5))
    )
    first, second = await asyncio.gather(*(handle_message(sessions, TOPIC, payload) for _ in range(2)))
    assert first.ack == second.ack
    assert first.ack is not None
    assert await punch_count(sessions) == 2
    assert sorted(p for _, p, _ in await entries(sessions)) == [-1, 2]


async def test_text_a_database_cannot_store_is_quarantined_and_acked(sessions: SessionFactory) -> None:
    await setup(sessions)
    poison = events.punch("1\x00", events.local(DAY, 8, 0))
    good = events.punch("1", events.local(DAY, 8, 5))
    outcome = await handle_message(sessions, TOPIC, events.batch(poison, good))
    assert outcome.ack is not None
    assert set(outcome.ack.event_ids) == {poison.id, good.id}
    assert await punch_count(sessions) == 1
    whole = json.dumps({"v": 1, "batch_id": "b", "events": [], "bad\x00key": 1}).encode()
    assert (await handle_message(sessions, TOPIC, whole)).ack is None
    async with sessions() as session:
        errors = (await session.execute(select(Quarantine.error).order_by(Quarantine.id))).scalars().all()
    assert len(errors) == 2
    assert "NUL" in errors[0]


async def test_garbage_topics_are_quarantined(sessions: SessionFactory) -> None:
    await setup(sessions)
    for topic in ("mpm/v1/" + "x" * 400 + "/up/events", "mpm/v1/Bad_Agent/up/events", "elsewhere"):
        assert await handle_message(sessions, topic, b"{}") == handling.Outcome()
    async with sessions() as session:
        assert len((await session.execute(select(Quarantine))).scalars().all()) == 3


async def test_a_device_record_read_twice_is_stored_once(sessions: SessionFactory) -> None:
    await setup(sessions)
    first = events.punch("1", events.local(DAY, 8, 0))
    reread = dataclasses.replace(first, id=events.uuid7(), seq=first.seq + 1000)  # same dedup_key, new id
    outcome = await handle_message(sessions, TOPIC, events.batch(first))
    again = await handle_message(sessions, TOPIC, events.batch(reread))
    assert outcome.ack is not None
    assert again.ack is not None
    assert again.ack.event_ids == (reread.id,)
    assert await punch_count(sessions) == 1
    other = events.punch("1", events.local(DAY, 8, 1))  # control: a different record is stored
    await handle_message(sessions, TOPIC, events.batch(other))
    assert await punch_count(sessions) == 2


async def test_other_event_kinds_are_kept_and_acked(sessions: SessionFactory) -> None:
    await setup(sessions)
    result = sync.CommandResult(cmd_id="c1", ok=True, detail="done")
    event = dataclasses.replace(
        events.punch("1", events.local(DAY, 8, 0)), kind="cmd_result", data=result.to_data()
    )
    bad = dataclasses.replace(event, id=events.uuid7(), device="zk\x001")
    outcome = await handle_message(sessions, TOPIC, events.batch(event, bad))
    assert outcome.ack is not None
    assert set(outcome.ack.event_ids) == {event.id, bad.id}
    async with sessions() as session:
        kinds = (await session.execute(select(AgentEvent.kind))).scalars().all()
        quarantined = (await session.execute(select(Quarantine.event_id))).scalars().all()
    assert (kinds, quarantined) == (["cmd_result"], [bad.id])


async def test_an_earlier_check_in_arriving_late_corrects_the_day(sessions: SessionFactory) -> None:
    t = await setup(sessions)
    await handle_message(sessions, TOPIC, events.batch(events.punch("1", events.local(DAY, 9, 30))))
    earlier = events.batch(events.punch("1", events.local(DAY, 8, 50)))
    corrected = await handle_message(sessions, TOPIC, earlier)
    assert corrected.changed_org == t.org_id
    assert [p for _, p, _ in await entries(sessions)] == [-1, 1, 2]  # late, its revocation, on time
    await handle_message(sessions, TOPIC, earlier)  # redelivered: nothing new
    await handle_message(
        sessions, TOPIC, events.batch(events.punch("1", events.local(DAY, 8, 40)))
    )  # same rule
    assert [p for _, p, _ in await entries(sessions)] == [-1, 1, 2]
    async with sessions() as session:
        ranked = await ranking.top(session, t.org_id, t.point_type_id, "month", "2026-11", 5)
    assert [(r.display_name, r.points) for r in ranked] == [("Alice", 2)]


async def test_an_undeclared_device_is_refused_alone_and_the_count_is_on_the_agents_api(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    sessions: SessionFactory = app.state.sessions
    t = await setup(sessions)
    status = sync.AgentStatus(
        state="online", agent_version="1", at=dt.datetime.now(dt.UTC), devices={"zk-1": "up"}
    )
    await handle_message(sessions, sync.topic("site-1", sync.Channel.STATUS), sync.encode(status))
    rogue = dataclasses.replace(events.punch("1", events.local(DAY, 8, 0)), device="zk-9")
    honest = events.punch("2", events.local(DAY, 8, 0))  # control: the declared device is accepted
    own = dataclasses.replace(  # the agent's own events name "@agent", never declared as a device
        events.punch("1", events.local(DAY, 8, 0)),
        kind="cmd_result",
        device="@agent",
        data=sync.CommandResult(cmd_id="c1", ok=True, detail="").to_data(),
    )
    outcome = await handle_message(sessions, TOPIC, events.batch(rogue, honest, own))
    assert outcome.ack is not None
    assert set(outcome.ack.event_ids) == {rogue.id, honest.id, own.id}
    async with sessions() as session:
        devices = (await session.execute(select(AttendancePunch.device))).scalars().all()
        kept = (await session.execute(select(Quarantine))).scalar_one()
    assert devices == ["zk-1"]
    assert (kept.event_id, kept.error.split(":")[0]) == (rogue.id, "identity.undeclared_device")
    listed = await client.get("/api/v1/agents", headers={"Authorization": f"Bearer {t.token}"})
    assert [(a["agent_id"], a["refused_events"]) for a in listed.json()] == [("site-1", 1)]
