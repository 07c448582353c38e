"""MQTT ingest and display publication against a real Mosquitto broker."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import aiomqtt
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from cloud.app import create_app
from cloud.db.models import Agent, AttendancePunch, LedgerEntry, Quarantine
from cloud.db.session import SessionFactory
from cloud.domain.periods import PeriodKind, period_key, today
from cloud.settings import CloudSettings
from firmware_protocols import sync
from tests.cloud import events, factories
from tests.support.broker import Broker
from tests.support.polling import async_wait_for

AGENT = "site-1"
T = TypeVar("T")


@dataclasses.dataclass
class Observed:
    """What an agent would see on its down topics, with the punch count at the moment each ack arrived."""

    acks: list[sync.Ack] = dataclasses.field(default_factory=list)
    punches_at_ack: list[int] = dataclasses.field(default_factory=list)
    displays: list[sync.DisplayContent] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Rig:
    app: FastAPI
    sessions: SessionFactory
    observed: Observed
    agent: aiomqtt.Client
    token: str

    async def send(
        self, payload: bytes, agent_id: str = AGENT, channel: sync.Channel = sync.Channel.EVENTS
    ) -> None:
        await self.agent.publish(f"mpm/v1/{agent_id}/{channel.value}", payload, qos=1)

    async def count(self, model: type[AttendancePunch | LedgerEntry | Quarantine]) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar_one())

    async def ack_for(self, batch_id: str, times: int = 1) -> list[sync.Ack]:
        async def probe() -> list[sync.Ack] | None:
            found = [a for a in self.observed.acks if a.batch_id == batch_id]
            return found if len(found) >= times else None

        return await async_wait_for(probe, timeout=10, what=f"{times} ack(s) of {batch_id}")


async def _observe(client: aiomqtt.Client, sessions: SessionFactory, observed: Observed) -> None:
    async for message in client.messages:
        payload = message.payload
        assert isinstance(payload, bytes)
        if message.topic.matches(f"mpm/v1/{AGENT}/down/ack"):
            async with sessions() as session:
                count = (
                    await session.execute(select(func.count()).select_from(AttendancePunch))
                ).scalar_one()
            observed.punches_at_ack.append(int(count))
            observed.acks.append(sync.decode_ack(payload))
        elif message.topic.matches(f"mpm/v1/{AGENT}/down/display"):
            observed.displays.append(sync.decode_display(payload))


@pytest.fixture
async def rig(db_url: str, broker: Broker) -> AsyncIterator[Rig]:
    settings = CloudSettings(database_url=db_url, mqtt_url=broker.url, display_debounce_s=0.05)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessions: SessionFactory = app.state.sessions
        async with sessions() as session:
            t = await factories.tenant(session)
            for pin, name in [("1", "Alice"), ("2", "Bob"), ("6", "张三")]:
                await factories.member(session, t.org_id, name, pin=pin)
            session.add(Agent(agent_id=AGENT, org_id=t.org_id))
            await session.commit()
        await async_wait_for(_subscribed(app), timeout=10, what="ingest subscription")
        observed = Observed()
        async with (
            aiomqtt.Client(broker.host, broker.port, identifier="test-observer") as observer,
            aiomqtt.Client(broker.host, broker.port, identifier="test-agent") as agent,
        ):
            await observer.subscribe(f"mpm/v1/{AGENT}/down/#", qos=1)
            task = asyncio.create_task(_observe(observer, sessions, observed))
            try:
                yield Rig(app=app, sessions=sessions, observed=observed, agent=agent, token=t.token)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


def _subscribed(app: FastAPI) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return bool(app.state.worker.subscribed.is_set())

    return probe


def this_morning(hour: int, minute: int = 0) -> dt.datetime:
    return events.local(today("Asia/Shanghai"), hour, minute)


async def test_a_batch_is_stored_once_and_acked_after_commit(rig: Rig) -> None:
    payload = events.batch(events.punch("1", this_morning(8, 0)))
    batch = sync.decode_batch(payload)
    await rig.send(payload)
    [ack] = await rig.ack_for(batch.batch_id)
    assert ack.event_ids == (batch.events[0].id,)
    assert rig.observed.punches_at_ack[0] == 1  # the row was committed before the ack went out
    assert (await rig.count(AttendancePunch), await rig.count(LedgerEntry)) == (1, 1)
    await rig.send(payload)  # redelivery: acked again, nothing new
    await rig.ack_for(batch.batch_id, times=2)
    assert (await rig.count(AttendancePunch), await rig.count(LedgerEntry)) == (1, 1)


async def test_malformed_payload_is_quarantined_and_the_worker_goes_on(rig: Rig) -> None:
    await rig.send(b"\xff not json at all")
    await async_wait_for(lambda: _positive(rig.count(Quarantine)), what="quarantined payload")
    good = events.batch(events.punch("2", this_morning(9, 30)))  # control: processing continues
    await rig.send(good)
    await rig.ack_for(sync.decode_batch(good).batch_id)
    assert await rig.count(LedgerEntry) == 1
    assert len(rig.observed.acks) == 1  # nothing was acked for the poison payload


async def test_one_bad_event_is_quarantined_and_acked_without_losing_the_others(rig: Rig) -> None:
    good, bad = events.punch("1", this_morning(8, 0)), events.punch("2", this_morning(8, 0))
    bad_json = bad.to_json() | {"occurred_at": "yesterday"}
    body = json.loads(sync.encode(sync.EventBatch(batch_id="b-mixed", events=(good,))))
    body["events"].append(bad_json)
    await rig.send(json.dumps(body).encode())
    [ack] = await rig.ack_for("b-mixed")
    assert set(ack.event_ids) == {good.id, bad.id}
    assert (await rig.count(AttendancePunch), await rig.count(Quarantine)) == (1, 1)
    async with rig.sessions() as session:
        kept = (await session.execute(select(Quarantine))).scalar_one()
    assert kept.event_id == bad.id
    assert "occurred_at" in kept.error


async def test_unknown_agent_is_quarantined_without_ack(rig: Rig) -> None:
    payload = events.batch(events.punch("1", this_morning(8, 0)))
    await rig.send(payload, agent_id="stranger")
    await async_wait_for(lambda: _positive(rig.count(Quarantine)), what="quarantined batch")
    assert await rig.count(AttendancePunch) == 0


async def test_status_updates_the_agents_last_status(rig: Rig) -> None:
    status = sync.AgentStatus(
        state="online", agent_version="1.2.3", at=dt.datetime.now(dt.UTC), devices={"zk-1": "up"}
    )
    await rig.send(sync.encode(status), channel=sync.Channel.STATUS)

    async def stored() -> dict[str, object] | None:
        async with rig.sessions() as session:
            agent = (await session.execute(select(Agent))).scalar_one()
        return agent.last_status

    last = await async_wait_for(stored, what="last status")
    assert last["agent_version"] == "1.2.3"


async def test_a_punch_moves_the_ranking_on_the_retained_display(rig: Rig, broker: Broker) -> None:
    transport = httpx.ASGITransport(app=rig.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as http:
        display = {"agent_id": AGENT, "sign": "lobby", "point_type": "A", "size": 5, "title": "Top 5"}
        created = await http.post(
            "/api/v1/displays", json=display, headers={"Authorization": f"Bearer {rig.token}"}
        )
        assert created.status_code == 201
    month = period_key(PeriodKind.MONTH, today("Asia/Shanghai"))

    def showing(rows: list[tuple[int, str, int]]) -> sync.DisplayContent | None:
        for content in reversed(rig.observed.displays):
            signs = {s.sign: s for s in content.signs}
            if "lobby" in signs and [(r.rank, r.name, r.points) for r in signs["lobby"].rows] == rows:
                return content
        return None

    empty = await async_wait_for(lambda: _ready(showing([])), what="display after creation")
    assert empty.signs[0].period == month
    await rig.send(events.batch(events.punch("1", this_morning(8, 0)), events.punch("6", this_morning(9, 5))))
    moved = await async_wait_for(
        lambda: _ready(showing([(1, "Alice", 2), (2, "张三", -1)])), what="new ranking"
    )
    assert moved.version > empty.version
    # a new subscriber gets the retained content (what a restarted agent sees)
    async with aiomqtt.Client(broker.host, broker.port, identifier="late-agent") as late:
        await late.subscribe(sync.topic(AGENT, sync.Channel.DISPLAY), qos=1)
        async with asyncio.timeout(10):
            message = await anext(aiter(late.messages))
    assert isinstance(message.payload, bytes)
    retained = sync.decode_display(message.payload)
    assert message.retain
    assert retained.version >= moved.version
    assert [r.name for r in retained.signs[0].rows] == ["Alice", "张三"]


async def _positive(count: Awaitable[int]) -> bool:
    return await count > 0


async def _ready(value: T) -> T:
    return value
