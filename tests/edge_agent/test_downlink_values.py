"""Issue 9, done-when (agent side): unrepresentable values on the downlink are counted and dropped.

A real ``mpm-agent run`` process drives a simulated Alpha sign over a pty and talks to a real
Mosquitto. A stand-in for the cloud publishes, for every row of the table, one bad message (as the
retained display, then as a command, then as an ack) followed by a good one, and shows: the agent is
alive, ``mpm_link_bad_payloads_total`` on its ``/metrics`` went up by exactly one, and the good
message applied (the sign shows the new content; the ping's result reached the cloud). The retained
bad display is also on the broker before the agent starts and again when it restarts: before the
decoders were total, that killed the agent at every start. Controls: the good messages themselves
never move the counter, and an edge-of-range display is applied, not dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from firmware_protocols import sync
from simulators.state_file import read_state
from tests.e2e.processes import BIN, ProcessGroup, process_group, start_alpha_sign
from tests.edge_agent.link.support import AGENT, FakeCloud, fake_cloud
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import async_wait_for

SIGN = "lobby"
MARKER = "@@value@@"


@dataclasses.dataclass(frozen=True)
class Bad:
    name: str
    path: tuple[str | int, ...]  # where in the message's JSON
    text: str  # JSON text put there verbatim (json.dumps escapes a lone surrogate as \udXXX)


OVERFLOW_UP, OVERFLOW_DOWN = '"9999-12-31T23:59:00-14:00"', '"0001-01-01T00:00:00+14:00"'
DISPLAY_CASES = (
    Bad("time overflows UTC going up", ("generated_at",), OVERFLOW_UP),
    Bad("time overflows UTC going down", ("generated_at",), OVERFLOW_DOWN),
    Bad("version past BigInteger", ("version",), str(2**63)),
    Bad("version of 5,000 digits", ("version",), "9" * 5000),
    Bad("negative version", ("version",), "-1"),
    Bad("NaN points", ("signs", 0, "rows", 0, "points"), "NaN"),
    Bad("Infinity points", ("signs", 0, "rows", 0, "points"), "Infinity"),
    Bad("-Infinity points", ("signs", 0, "rows", 0, "points"), "-Infinity"),
    Bad("rank past BigInteger", ("signs", 0, "rows", 0, "rank"), str(2**63)),
    Bad("lone high surrogate in a name", ("signs", 0, "rows", 0, "name"), json.dumps("A\ud800")),
    Bad("lone low surrogate in a title", ("signs", 0, "title"), json.dumps("\udc00")),
    Bad("oversize name", ("signs", 0, "rows", 0, "name"), json.dumps("N" * 65)),
)
COMMAND_CASES = (
    Bad("expiry overflows UTC going up", ("expires_at",), OVERFLOW_UP),
    Bad("expiry overflows UTC going down", ("expires_at",), OVERFLOW_DOWN),
    Bad("NaN in args", ("args", "x"), "NaN"),
    Bad("Infinity in args", ("args", "x"), "Infinity"),
    Bad("-Infinity in args", ("args", "x"), "-Infinity"),
    Bad("integer past 64 bits in args", ("args", "x"), str(2**64)),
    Bad("lone high surrogate in args", ("args", "x"), json.dumps("\ud800")),
    Bad("lone low surrogate in cmd_id", ("cmd_id",), json.dumps("c\udc00")),
    Bad("oversize cmd_id", ("cmd_id",), json.dumps("c" * 65)),
)
ACK_CASES = (
    Bad("lone surrogate in batch_id", ("batch_id",), json.dumps("b\ud800")),
    Bad("NaN as an event id", ("event_ids", 0), "NaN"),
    Bad("integer past 64 bits as an event id", ("event_ids", 0), str(2**64)),
    Bad("oversize batch_id", ("batch_id",), json.dumps("b" * 65)),
)
ACK = sync.Ack(batch_id="b", event_ids=("01930b4e-6f00-7000-8000-000000000001",))


def with_value(message: sync.Message, bad: Bad) -> bytes:
    body: Any = json.loads(sync.encode(message))
    parent = body
    for step in bad.path[:-1]:
        parent = parent[step]
    parent[bad.path[-1]] = MARKER
    return json.dumps(body).replace(json.dumps(MARKER), bad.text).encode()


def display(version: int, name: str, *, at: dt.datetime | None = None) -> sync.DisplayContent:
    row = sync.RankRow(rank=1, name=name, points=7)
    sign = sync.SignContent(sign=SIGN, title="Top", period="", rows=(row,))
    return sync.DisplayContent(version=version, generated_at=at or dt.datetime.now(dt.UTC), signs=(sign,))


def ping(cmd_id: str) -> sync.Command:
    return sync.Command(
        cmd_id=cmd_id, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), type="ping", args={}
    )


def agent_config(tmp_path: Path, broker: Broker, tty: Path, metrics_port: int) -> Path:
    config = tmp_path / "agent.toml"
    config.write_text(
        f'agent_id = "{AGENT}"\nstatus_interval_s = 1\n'
        f'[mqtt]\nurl = "{broker.url}"\nkeepalive_s = 5\nack_timeout_s = 2\n'
        f'[outbox]\npath = "{tmp_path / "outbox.db"}"\n'
        f'[observability]\nlisten = "127.0.0.1:{metrics_port}"\n'
        f'[[devices]]\nkind = "alpha_sign"\nname = "{SIGN}"\nport = "{tty}"\ncolumns = 20\nrows = 5\n'
    )
    return config


@dataclasses.dataclass
class Site:
    group: ProcessGroup
    config: Path
    sign_state: Path
    metrics_url: str
    cloud: FakeCloud

    def start_agent(self) -> None:
        self.group.start("agent", [str(BIN / "mpm-agent"), "run", "--config", str(self.config)])

    def alive(self) -> bool:
        return self.group.children["agent"].poll() is None

    def stop_agent(self) -> int:
        agent = self.group.children["agent"]
        agent.send_signal(signal.SIGTERM)
        return agent.wait(timeout=30)

    def sign_shows(self, text: str) -> bool:
        state = read_state(self.sign_state) or {}
        return any(text in str(line) for line in state.get("showing", []))

    async def bad_payloads(self) -> int | None:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                page = (await http.get(self.metrics_url)).text
        except httpx.TransportError:
            return None  # not serving yet
        found = re.search(r"^mpm_link_bad_payloads_total (\d+)$", page, re.MULTILINE)
        return int(found.group(1)) if found else None

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        async def probe() -> bool:
            assert self.alive(), self.group.log_tail("agent")
            return condition()

        await async_wait_for(probe, timeout=30, what=what)

    async def counted(self, expected: int, what: str) -> None:
        async def probe() -> bool:
            assert self.alive(), self.group.log_tail("agent")
            return await self.bad_payloads() == expected

        await async_wait_for(probe, timeout=30, what=f"bad_payloads == {expected} ({what})")


@pytest.fixture
async def site(tmp_path: Path, broker: Broker) -> AsyncIterator[Site]:
    port = free_port()
    async with fake_cloud(broker) as cloud:
        with process_group(tmp_path / "logs") as group:
            tty, state = start_alpha_sign(group, tmp_path, SIGN)
            config = agent_config(tmp_path, broker, tty, port)
            yield Site(group, config, state, f"http://127.0.0.1:{port}/metrics", cloud)


def _result_of(cloud: FakeCloud, cmd_id: str) -> sync.CommandResult | None:
    for event in cloud.events:
        if event.kind == "cmd_result" and event.data.get("cmd_id") == cmd_id:
            return sync.CommandResult.from_data(event.data)
    return None


async def test_bad_downlink_values_are_counted_dropped_and_never_fatal(site: Site) -> None:
    retained_bad = with_value(display(1, "never"), DISPLAY_CASES[0])
    await site.cloud.send(sync.Channel.DISPLAY, retained_bad, retain=True)
    site.start_agent()
    await site.counted(1, "the retained bad display, at start")
    count, version = 1, 1
    edge = display(version, "edge0", at=dt.datetime(9999, 12, 30, tzinfo=dt.UTC))
    await site.cloud.send(sync.Channel.DISPLAY, sync.encode(edge), retain=True)  # control: edge of range
    await site.until(lambda: site.sign_shows("edge0"), "edge-of-range content on the sign")

    for index, bad in enumerate(DISPLAY_CASES, start=1):
        version += 1
        await site.cloud.send(sync.Channel.DISPLAY, with_value(display(version, "bad"), bad), retain=True)
        version += 1
        await site.cloud.send(sync.Channel.DISPLAY, sync.encode(display(version, f"ok{index}")), retain=True)
        await site.until(lambda n=index: site.sign_shows(f"ok{n}"), f"good content after {bad.name}")
        count += 1
        await site.counted(count, bad.name)

    for index, bad in enumerate(COMMAND_CASES):
        await site.cloud.send(sync.Channel.COMMAND, with_value(ping(f"bad-{index}"), bad))
        await site.cloud.send(sync.Channel.COMMAND, sync.encode(ping(f"ok-{index}")))
        await site.until(
            lambda n=index: _result_of(site.cloud, f"ok-{n}") is not None, f"ping after {bad.name}"
        )
        count += 1
        await site.counted(count, bad.name)
    assert all(_result_of(site.cloud, f"bad-{i}") is None for i in range(len(COMMAND_CASES)))

    for index, bad in enumerate(ACK_CASES):
        await site.cloud.send(sync.Channel.ACK, with_value(ACK, bad))
        version += 1
        await site.cloud.send(sync.Channel.DISPLAY, sync.encode(display(version, f"ack{index}")), retain=True)
        await site.until(lambda n=index: site.sign_shows(f"ack{n}"), f"good content after {bad.name}")
        count += 1
        await site.counted(count, bad.name)

    # The bad retained display stays on the broker across a restart: counted again, never fatal, and
    # the last good content (persisted) is on the sign until newer good content comes.
    await site.cloud.send(sync.Channel.DISPLAY, retained_bad, retain=True)
    await site.counted(count + 1, "the bad retained display again")
    assert site.stop_agent() == 0
    site.start_agent()
    await site.counted(1, "the retained bad display, after the restart")
    await site.cloud.send(sync.Channel.DISPLAY, sync.encode(display(version + 1, "after")), retain=True)
    await site.until(lambda: site.sign_shows("after"), "good content after the restart")
    await site.counted(1, "no good message is ever counted")
