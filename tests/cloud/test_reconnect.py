"""The ingest worker survives its broker going away: it reconnects with backoff, resubscribes, and
republishes the retained display content so a fresh broker holds it again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
from fastapi import FastAPI

from cloud.app import create_app
from cloud.db.models import Agent, Display
from cloud.settings import CloudSettings
from firmware_protocols import sync
from tests.cloud import events, factories
from tests.support.broker import mosquitto_config
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import async_wait_for, wait_for

MOSQUITTO = "/usr/sbin/mosquitto"


@contextlib.contextmanager
def mosquitto_on(port: int, tmp: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    conf = tmp / f"{name}.conf"
    conf.write_text(mosquitto_config(port, tmp))
    with (tmp / f"{name}.log").open("wb") as log:
        process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: accepts_tcp("127.0.0.1", port), timeout=15, what=f"{name} on {port}")
            yield process
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextlib.asynccontextmanager
async def running_app(db_url: str, port: int) -> AsyncIterator[FastAPI]:
    app = create_app(
        CloudSettings(database_url=db_url, mqtt_url=f"mqtt://127.0.0.1:{port}", display_debounce_s=0)
    )
    async with app.router.lifespan_context(app):
        async with app.state.sessions() as session:
            t = await factories.tenant(session)
            await factories.member(session, t.org_id, "Alice", pin="1")
            agent = Agent(agent_id="site-1", org_id=t.org_id)
            session.add(agent)
            await session.flush()
            session.add(
                Display(org_id=t.org_id, agent_pk=agent.id, sign="lobby", point_type_id=t.point_type_id)
            )
            await session.commit()
        yield app


async def subscribed(app: FastAPI, expected: bool) -> None:
    async def probe() -> bool:
        return bool(app.state.worker.subscribed.is_set()) == expected

    await async_wait_for(probe, timeout=20, what=f"worker subscribed == {expected}")


async def retained_display(port: int) -> sync.DisplayContent:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(sync.topic("site-1", sync.Channel.DISPLAY), qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                return sync.decode_display(message.payload)
    raise AssertionError("no display message")


async def test_worker_reconnects_to_a_restarted_broker(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    with mosquitto_on(port, tmp_path, "first") as first:
        async with running_app(db_url, port) as app:
            await subscribed(app, True)
            first.terminate()
            first.wait(timeout=10)
            await subscribed(app, False)
            with mosquitto_on(port, tmp_path, "second"):
                await subscribed(app, True)
                # the fresh broker holds the display again (republished on attach)
                content = await retained_display(port)
                assert [s.sign for s in content.signs] == ["lobby"]
                # and events flow again: a batch is stored and acked
                async with aiomqtt.Client("127.0.0.1", port) as agent:
                    await agent.subscribe(sync.topic("site-1", sync.Channel.ACK), qos=1)
                    payload = events.batch(events.punch("1", events.local(dt.date(2026, 11, 2), 8)))
                    await agent.publish(sync.topic("site-1", sync.Channel.EVENTS), payload, qos=1)
                    async for message in agent.messages:
                        assert isinstance(message.payload, bytes)
                        assert (
                            sync.decode_ack(message.payload).batch_id == sync.decode_batch(payload).batch_id
                        )
                        break
