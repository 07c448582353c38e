"""Honest when offline: a real Mosquitto is stopped and restarted under a running link.

The broker is this test's own, on a fixed free port so the restart reuses it. The programme's
clock is injected: ``tick(now)`` is called at instants after the link's real state changed, so
``offline_after_s`` passes without waiting for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt

from edge_agent.config import AgentConfig
from edge_agent.display import DisplayRouter, Sign
from edge_agent.link import Link
from edge_agent.outbox import Outbox
from edge_agent.signage import SignProgramme, SignProgrammeConfig
from firmware_protocols.sync import Channel, DisplayContent, encode, topic
from tests.edge_agent.link.support import AGENT, RecordingSign, running_link
from tests.edge_agent.signage.support import ranking
from tests.support.broker import mosquitto_config
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import async_wait_for, wait_for

MOSQUITTO = "/usr/sbin/mosquitto"
T0 = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)  # 14:30 in Shanghai
OFFLINE_AFTER = dt.timedelta(minutes=5)


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


def config_for(port: int, tmp: Path) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "agent_id": AGENT,
            "mqtt": {"url": f"mqtt://127.0.0.1:{port}", "keepalive_s": 5},
            "outbox": {"path": tmp / "outbox.db"},
        }
    )


async def publish_display(port: int, version: int) -> None:
    """The cloud's part: retained display content for the agent."""
    content = DisplayContent(version=version, generated_at=T0, signs=(ranking(42, 17),))
    async with aiomqtt.Client("127.0.0.1", port) as cloud:
        await cloud.publish(topic(AGENT, Channel.DISPLAY), encode(content), qos=1, retain=True)


async def test_marker_appears_while_the_broker_is_down_and_leaves_with_fresh_content(tmp_path: Path) -> None:
    port = free_port()
    sign = RecordingSign()
    holder: dict[str, SignProgramme] = {}

    class Router(DisplayRouter):  # the agent's wiring: every delivery confirms the content is current
        def __init__(self, outbox: Outbox, signs: dict[str, Sign]) -> None:
            super().__init__(outbox, signs, on_delivery=lambda: holder["lobby"].fresh())

    settings = SignProgrammeConfig(time_zone="Asia/Shanghai", offline_after_s=OFFLINE_AFTER.total_seconds())
    config = config_for(port, tmp_path)
    with mosquitto_on(port, tmp_path, "before") as first_broker:
        links: list[Link] = []  # the link the programme watches, once it runs
        programme = holder["lobby"] = SignProgramme(
            "lobby",
            sign,
            settings,
            clock=lambda: T0,
            link_up=lambda: any(link.connected.is_set() for link in links),
            title_width=24,
        )
        async with running_link(config, {"lobby": programme}, router=Router) as stack:
            links.append(stack.link)
            await publish_display(port, version=1)

            async def received() -> bool:
                # Confirmed on delivery, shown a moment later (the router hands it over): wait for both.
                confirmed = programme.staleness.known_current_at is not None
                return confirmed and programme.compose(T0) is not None

            await async_wait_for(received, what="the retained content")
            await programme.tick(T0)
            assert sign.shown[-1].title == "TOP"
            await programme.tick(T0 + 2 * OFFLINE_AFTER)  # control: the link is up, so never stale
            assert sign.shown[-1].title == "TOP"
            last_up = T0 + 2 * OFFLINE_AFTER  # 14:40 on the wall

            first_broker.terminate()
            first_broker.wait(timeout=10)

            async def link_down() -> bool:
                return not stack.link.connected.is_set()

            await async_wait_for(link_down, timeout=30, what="the link to see the broker gone")
            await programme.tick(last_up + OFFLINE_AFTER - dt.timedelta(seconds=1))
            assert sign.shown[-1].title == "TOP"  # control: not yet stale
            await programme.tick(last_up + OFFLINE_AFTER)
            shown = sign.shown[-1]
            assert shown.title == "TOP updated 14:40"
            assert shown.rows == ranking(42, 17).rows  # the last content is kept

            with mosquitto_on(port, tmp_path, "after"):  # persistence off: the retained copy is gone

                async def link_back() -> bool:
                    return stack.link.connected.is_set()

                await async_wait_for(link_back, timeout=30, what="the link to reconnect")
                await programme.tick(last_up + 3 * OFFLINE_AFTER)
                assert sign.shown[-1].title == "TOP updated 14:40"  # link up, but nothing fresh yet
                await publish_display(port, version=2)

                async def fresh() -> bool:
                    return not programme.staleness.stale

                await async_wait_for(fresh, what="fresh content to clear the marker")
                await programme.tick(last_up + 3 * OFFLINE_AFTER)
                assert sign.shown[-1].title == "TOP"
