"""Display content, commands and bad payloads arriving from the cloud over a real Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

from edge_agent.display import DisplayRouter
from edge_agent.outbox import AGENT_DEVICE, running_outbox
from firmware_protocols.sync import (
    Channel,
    Command,
    CommandResult,
    DisplayContent,
    RankRow,
    SignContent,
    encode,
)
from tests.edge_agent.link.support import RecordingSign, agent_config, fake_cloud, running_link
from tests.support.broker import Broker
from tests.support.polling import async_wait_for


def display(version: int, title: str) -> DisplayContent:
    rows = (RankRow(rank=1, name="张*三", points=120, department="一车间"),)
    signs = (
        SignContent(sign="lobby", title=title, period="2026-03", rows=rows),
        SignContent(sign="not-here", title=title, period="2026-03", rows=()),
    )
    return DisplayContent(version=version, generated_at=dt.datetime.now(dt.UTC), signs=signs)


def command(cmd_id: str, kind: str = "ping", *, expires_in_s: float = 600) -> bytes:
    # Expiry from the moment of the call: the suite may reach this test long after import.
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires_in_s)
    return encode(Command(cmd_id=cmd_id, expires_at=expires, type=kind, args={}))


async def test_display_content_reaches_the_sign_and_stale_versions_are_ignored(
    broker: Broker, tmp_path: Path
) -> None:
    config = agent_config(broker, tmp_path)
    sign = RecordingSign()
    async with fake_cloud(broker) as cloud, running_link(config, {"lobby": sign}) as stack:
        await cloud.send(Channel.DISPLAY, encode(display(2, "本月积分")), retain=True)

        async def shown() -> bool:
            return bool(sign.shown)

        await async_wait_for(shown, what="content on the sign")
        await cloud.send(Channel.DISPLAY, encode(display(1, "stale")), retain=True)
        await cloud.send(Channel.DISPLAY, encode(display(2, "repeat")), retain=True)
        await cloud.send(Channel.DISPLAY, encode(display(3, "newer")), retain=True)

        async def newer_shown() -> bool:
            return len(sign.shown) >= 2

        await async_wait_for(newer_shown, what="version 3 on the sign")
        assert [c.title for c in sign.shown] == ["本月积分", "newer"]
        assert stack.display.ignored == 2


async def test_persisted_display_is_replayed_at_start_without_the_cloud(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        assert await DisplayRouter(outbox, {}).handle(encode(display(7, "last known")))
    sign = RecordingSign()
    async with running_outbox(db) as outbox:
        router = DisplayRouter(outbox, {"lobby": sign})
        task = asyncio.create_task(router.run())  # run() replays first

        async def shown() -> bool:
            return bool(sign.shown)

        await async_wait_for(shown, what="replayed content on the sign")
        assert not await router.handle(encode(display(7, "retained again")))  # amqtt may redeliver
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert [c.title for c in sign.shown] == ["last known"]
    assert router.applied_version == 7


async def test_commands_run_once_expired_dropped_results_return_through_outbox(
    broker: Broker, tmp_path: Path
) -> None:
    config = agent_config(broker, tmp_path)
    async with fake_cloud(broker) as cloud, running_link(config) as stack:
        await cloud.send(Channel.COMMAND, command("c-expired", expires_in_s=-5))
        await cloud.send(Channel.COMMAND, command("c-ping"))
        await cloud.send(Channel.COMMAND, command("c-ping"))  # redelivery: not run again
        await cloud.send(Channel.COMMAND, command("c-odd", "reboot_the_moon"))

        async def two_results() -> list[CommandResult]:
            results = [CommandResult.from_data(e.data) for e in cloud.events if e.kind == "cmd_result"]
            return results if len(results) >= 2 and stack.commands.duplicates >= 1 else []

        results = await async_wait_for(two_results, what="command results at the cloud")
        assert stack.commands.expired == 1
        assert stack.commands.executed == 2
    by_id = {r.cmd_id: r for r in results}
    assert sorted(by_id) == ["c-odd", "c-ping"]
    assert by_id["c-ping"].ok
    assert not by_id["c-odd"].ok
    assert all(e.device == AGENT_DEVICE for e in cloud.events)


async def test_bad_payloads_are_counted_and_the_link_keeps_working(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path)
    async with fake_cloud(broker) as cloud, running_link(config) as stack:
        for channel in (Channel.ACK, Channel.DISPLAY, Channel.COMMAND):
            await cloud.send(channel, b"\xff not json")
        await cloud.send(Channel.COMMAND, b'{"v":1,"cmd_id":"x"}')
        await cloud.send(Channel.COMMAND, command("after-garbage"))

        async def result_arrived() -> bool:
            return any(e.kind == "cmd_result" for e in cloud.events)

        await async_wait_for(result_arrived, what="a command result after garbage")
        assert stack.link.bad_payloads == 4
        assert stack.link.sessions == 1  # never reconnected because of garbage
