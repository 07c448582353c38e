"""A tiny fake cloud on a real broker, and the agent's link stack assembled around a test outbox."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiomqtt

from edge_agent.config import AgentConfig
from edge_agent.device_health import DeviceHealth
from edge_agent.display import DisplayRouter, Sign
from edge_agent.link import CommandRunner, Link
from edge_agent.outbox import Outbox, running_outbox
from edge_agent.status import StatusReporter
from firmware_protocols.sync import (
    Ack,
    AgentStatus,
    Channel,
    Event,
    EventBatch,
    SignContent,
    decode_batch,
    decode_status,
    encode,
    topic,
)
from tests.support.broker import Broker

AGENT = "site-1"


def agent_config(broker: Broker, tmp_path: Path, **mqtt: Any) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "agent_id": AGENT,
            "mqtt": {"url": broker.url, "keepalive_s": 5, "ack_timeout_s": 1.0, **mqtt},
            "outbox": {"path": tmp_path / "outbox.db", "batch_size": 100, "max_in_flight_batches": 4},
            "status_interval_s": 0.5,
        }
    )


class FakeCloud:
    """Subscribes to the agent's events and status; acks batches when ``acking`` is on."""

    def __init__(self, broker: Broker, *, acking: bool) -> None:
        self.broker, self.acking = broker, acking
        self.batches: list[EventBatch] = []
        self.statuses: list[AgentStatus] = []
        self.client: aiomqtt.Client | None = None

    @property
    def events(self) -> list[Event]:
        return [e for batch in self.batches for e in batch.events]

    def distinct_ids(self) -> set[str]:
        return {e.id for e in self.events}

    async def serve(self, ready: asyncio.Event) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port, identifier="fake-cloud") as client:
            self.client = client
            await client.subscribe([(topic(AGENT, Channel.EVENTS), 1), (topic(AGENT, Channel.STATUS), 1)])
            ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                if message.topic.matches(topic(AGENT, Channel.STATUS)):
                    self.statuses.append(decode_status(message.payload))
                else:
                    await self._on_batch(decode_batch(message.payload))

    async def _on_batch(self, batch: EventBatch) -> None:
        self.batches.append(batch)
        if self.acking:
            await self.ack(batch)

    async def ack(self, batch: EventBatch) -> None:
        ack = Ack(batch_id=batch.batch_id, event_ids=tuple(e.id for e in batch.events))
        await self.send(Channel.ACK, encode(ack))

    async def send(self, channel: Channel, payload: bytes, *, retain: bool = False) -> None:
        assert self.client is not None
        await self.client.publish(topic(AGENT, channel), payload, qos=1, retain=retain)


@contextlib.asynccontextmanager
async def fake_cloud(broker: Broker, *, acking: bool = True) -> AsyncIterator[FakeCloud]:
    cloud = FakeCloud(broker, acking=acking)
    ready = asyncio.Event()
    task = asyncio.create_task(cloud.serve(ready))
    try:
        async with asyncio.timeout(10):
            await ready.wait()
        yield cloud
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class RecordingSign:
    """A sign double: remembers everything it was asked to show."""

    def __init__(self) -> None:
        self.shown: list[SignContent] = []

    async def show(self, content: SignContent) -> None:
        self.shown.append(content)


@dataclasses.dataclass
class LinkStack:
    outbox: Outbox
    link: Link
    display: DisplayRouter
    commands: CommandRunner


@contextlib.asynccontextmanager
async def running_link(
    config: AgentConfig,
    signs: Mapping[str, Sign] | None = None,
    *,
    router: type[DisplayRouter] = DisplayRouter,
) -> AsyncIterator[LinkStack]:
    """Outbox writer, link, display router (of class ``router``) and status publisher against ``config``."""
    async with running_outbox(config.outbox.path, lease_s=config.mqtt.ack_timeout_s) as outbox:
        display = router(outbox, signs or {})
        commands = CommandRunner(outbox)
        status = StatusReporter(outbox, DeviceHealth(), interval_s=config.status_interval_s)
        link = Link(config, outbox, display=display, commands=commands, status=status)
        tasks = [
            asyncio.create_task(link.run()),
            asyncio.create_task(display.run()),
            asyncio.create_task(status.run(link.publish_status)),
        ]
        try:
            async with asyncio.timeout(10):
                await link.connected.wait()
            yield LinkStack(outbox=outbox, link=link, display=display, commands=commands)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
