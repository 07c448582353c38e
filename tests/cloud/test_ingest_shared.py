"""Two ingest workers on one shared subscription and one database: both consume, nothing twice.

Every batch is published twice (a redelivery), so the two copies often reach different workers at
once: the loser's insert fails on ``UNIQUE(agent, event_id)`` and its retry finds the events stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from sqlalchemy import func, select

from cloud.db.models import Agent, AttendancePunch, LedgerEntry
from cloud.db.session import SessionFactory
from cloud.displays.publisher import DisplayPublisher
from cloud.ingest.worker import IngestWorker
from cloud.settings import CloudSettings
from firmware_protocols import sync
from tests.cloud import events, factories
from tests.support.broker import Broker
from tests.support.polling import async_wait_for

AGENTS = [f"site-{n}" for n in range(4)]
BATCHES_PER_AGENT = 6
PUNCHES_PER_BATCH = 5
DAY = dt.date(2026, 11, 16)


@pytest.fixture
async def workers(sessions: SessionFactory, broker: Broker, db_url: str) -> AsyncIterator[list[IngestWorker]]:
    endpoint = CloudSettings(database_url=db_url, mqtt_url=broker.url).mqtt_endpoint()
    assert endpoint is not None
    pair = [IngestWorker(endpoint, "ingest", sessions, DisplayPublisher(sessions, 0.05)) for _ in range(2)]
    tasks = [asyncio.create_task(w.run(), name=f"ingest-{n}") for n, w in enumerate(pair)]
    try:
        await async_wait_for(lambda: _ready(all(w.subscribed.is_set() for w in pair)), what="both subscribed")
        yield pair
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_two_workers_share_the_batches_and_store_each_event_once(
    sessions: SessionFactory, broker: Broker, workers: list[IngestWorker]
) -> None:
    async with sessions() as session:
        t = await factories.tenant(session)
        for pin in range(1, 31):
            await factories.member(session, t.org_id, f"M{pin}", pin=str(pin))
        session.add_all(Agent(agent_id=agent, org_id=t.org_id) for agent in AGENTS)
        await session.commit()
    batches = {agent: [_batch(agent, n) for n in range(BATCHES_PER_AGENT)] for agent in AGENTS}
    acks: list[sync.Ack] = []
    async with (
        aiomqtt.Client(broker.host, broker.port, identifier="test-observer") as observer,
        aiomqtt.Client(broker.host, broker.port, identifier="test-agents") as publisher,
    ):
        await observer.subscribe("mpm/v1/+/down/ack", qos=1)
        listening = asyncio.create_task(_collect(observer, acks))
        for round_ in range(BATCHES_PER_AGENT):
            for agent in AGENTS:
                payload = sync.encode(batches[agent][round_])
                for _ in range(2):  # every batch delivered twice
                    await publisher.publish(sync.topic(agent, sync.Channel.EVENTS), payload, qos=1)
        expected = 2 * len(AGENTS) * BATCHES_PER_AGENT
        await async_wait_for(lambda: _ready(len(acks) >= expected), timeout=60, what=f"{expected} acks")
        # a worker counts its ack once the publish returned, which may be after the observer got it
        counted = lambda: _ready(sum(w.acked_batches for w in workers) >= len(acks))  # noqa: E731
        await async_wait_for(counted, timeout=30, what="the workers' ack counters")
        listening.cancel()
    sent = {e.id for per_agent in batches.values() for b in per_agent for e in b.events}
    async with sessions() as session:
        stored = list((await session.execute(select(AttendancePunch.event_id))).scalars())
        entries = (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
    assert len(stored) == len(set(stored))  # 0 duplicates
    assert set(stored) == sent  # 0 lost
    assert entries == len(sent)  # each punch is its member's first check-in of a day: one entry each
    assert {a.batch_id for a in acks} == {b.batch_id for per_agent in batches.values() for b in per_agent}
    assert all(w.acked_batches > 0 for w in workers), [w.acked_batches for w in workers]
    assert sum(w.acked_batches for w in workers) == len(acks)


def _batch(agent: str, n: int) -> sync.EventBatch:
    """Punches of distinct members on a day of their own per (agent, batch): each earns an entry."""
    offset = AGENTS.index(agent) * BATCHES_PER_AGENT + n
    made = [
        events.punch(str(1 + i), events.local(DAY + dt.timedelta(days=offset), 8, i))
        for i in range(PUNCHES_PER_BATCH)
    ]
    return sync.EventBatch(batch_id=events.uuid7(), events=tuple(made))


async def _collect(client: aiomqtt.Client, acks: list[sync.Ack]) -> None:
    async for message in client.messages:
        assert isinstance(message.payload, bytes)
        acks.append(sync.decode_ack(message.payload))


async def _ready(value: bool) -> bool:
    return value
