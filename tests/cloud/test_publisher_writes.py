"""The display publisher computes content in read sessions and writes only the version bump.

Why it matters: on SQLite a write session takes the single write lock at its first statement, and
an ingest transaction waiting for it sleeps in SQLite's busy handler (1, 2, 5, 10 … ms steps). A
publication that computed its rankings inside a write transaction held that lock for the whole
computation. Asserted on the statements each engine ran during one publication; the control is a
publisher given no read sessions (it falls back to the write sessions), where the ranking reads
show up on the write side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiomqtt
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db.session import SessionFactory, read_only_engine, session_factory
from cloud.displays.publisher import DisplayPublisher
from cloud.domain.demo import seed_demo
from firmware_protocols import sync
from tests.support.broker import Broker


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _publish_once(publisher: DisplayPublisher, org_id: int, agent_id: str, broker: Broker) -> None:
    topic = sync.topic(agent_id, sync.Channel.DISPLAY)
    async with (
        aiomqtt.Client(broker.host, broker.port, identifier=f"{agent_id}-cloud") as cloud,
        aiomqtt.Client(broker.host, broker.port, identifier=agent_id) as agent,
    ):
        await agent.subscribe(topic, qos=1)
        running = asyncio.create_task(publisher.run())
        try:
            publisher.changed(org_id)
            publisher.attach(cloud)
            async with asyncio.timeout(20):  # only bounds a failure
                await anext(aiter(agent.messages))
        finally:
            running.cancel()


async def _writes_during_publication(
    engine: AsyncEngine, sessions: SessionFactory, broker: Broker, *, with_reads: bool, agent_id: str
) -> list[str]:
    async with sessions() as session:
        seed = await seed_demo(session, agent_id, "lobby")
        await session.commit()
    reader = read_only_engine(engine)
    reads = session_factory(reader) if with_reads else None
    publisher = DisplayPublisher(sessions, debounce_s=0.0, read_sessions=reads)
    try:
        with _statements(engine) as written:
            await _publish_once(publisher, seed.org_id, agent_id, broker)
    finally:
        if reader is not engine:
            await reader.dispose()
    return [s for s in written if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET ", "SHOW "))]


async def test_a_publication_writes_only_the_version_bump(
    engine: AsyncEngine, sessions: SessionFactory, broker: Broker
) -> None:
    ran = await _writes_during_publication(engine, sessions, broker, with_reads=True, agent_id="pw-a")
    writes = [s for s in ran if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [w.startswith("UPDATE AGENT SET DISPLAY_VERSION") for w in writes] == [True], writes
    if engine.dialect.name == "sqlite":  # its readers have engines of their own: nothing else here
        assert ran == writes, ran


async def test_control_without_read_sessions_the_ranking_reads_run_on_the_write_side(
    engine: AsyncEngine, sessions: SessionFactory, broker: Broker
) -> None:
    written = await _writes_during_publication(engine, sessions, broker, with_reads=False, agent_id="pw-b")
    assert any(s.startswith("SELECT") and "BALANCE" in s for s in written), written
