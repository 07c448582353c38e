"""``mpm-agent`` as a real process: bad config exits 78, status --json, last will on kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt

from edge_agent.outbox import running_outbox
from firmware_protocols.sync import AgentStatus, Channel, decode_status, topic
from tests.edge_agent.outbox.helpers import punch
from tests.support.broker import Broker
from tests.support.polling import async_wait_for

AGENT = "site-cli"


def write_config(tmp_path: Path, url: str = "mqtt://127.0.0.1:1883", keepalive_s: int = 5) -> Path:
    lines = [f'agent_id = "{AGENT}"', "status_interval_s = 0.5", "[mqtt]", f'url = "{url}"']
    lines += [f"keepalive_s = {keepalive_s}"]
    lines += ["[outbox]", f'path = "{tmp_path / "outbox.db"}"']
    path = tmp_path / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def mpm_agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def agent_process(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(config), "--log-level", "debug"]
    log = (config.parent / "agent.log").open("wb")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        log.close()


def test_bad_config_exits_78_naming_file_and_field(tmp_path: Path) -> None:
    config = write_config(tmp_path, keepalive_s=31)
    result = mpm_agent("run", "--config", str(config))
    assert result.returncode == 78
    assert "mqtt.keepalive_s" in result.stderr
    assert str(config) in result.stderr


def test_control_missing_config_file_also_exits_78(tmp_path: Path) -> None:
    result = mpm_agent("status", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 78
    assert "nope.toml" in result.stderr


async def test_status_json_reads_the_outbox(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        await outbox.accept([punch(i) for i in range(3)])
        result = await asyncio.to_thread(mpm_agent, "status", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["agent_id"] == AGENT
    assert body["backlog_rows"] == 3
    assert body["bytes"] > 0
    assert body["dropped_total"] == 0
    assert body["oldest_unacked_age_s"] is not None


def test_status_before_the_schema_exists_says_no_outbox_yet(tmp_path: Path) -> None:
    """The agent creates the file before its tables: status then exits 69, as with no file at all."""
    config = write_config(tmp_path)
    (tmp_path / "outbox.db").touch()  # what a starting agent leaves for a moment
    result = mpm_agent("status", "--config", str(config), "--json")
    assert result.returncode == 69, result.stderr
    assert "not initialised yet" in result.stderr


def test_control_status_without_a_file_exits_69(tmp_path: Path) -> None:
    result = mpm_agent("status", "--config", str(write_config(tmp_path)), "--json")
    assert result.returncode == 69, result.stderr
    assert "no outbox database" in result.stderr


async def watch_status(broker: Broker, seen: list[AgentStatus], ready: asyncio.Event) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="status-watcher") as client:
        await client.subscribe(topic(AGENT, Channel.STATUS), qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            seen.append(decode_status(message.payload))


@contextlib.asynccontextmanager
async def status_watcher(broker: Broker) -> AsyncIterator[list[AgentStatus]]:
    seen: list[AgentStatus] = []
    ready = asyncio.Event()
    task = asyncio.create_task(watch_status(broker, seen, ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_until_online_then(broker: Broker, tmp_path: Path, signum: signal.Signals) -> list[AgentStatus]:
    config = write_config(tmp_path, url=broker.url)
    async with status_watcher(broker) as seen:
        with agent_process(config) as process:

            async def online() -> bool:
                return any(s.state == "online" for s in seen)

            await async_wait_for(online, timeout=30, what="agent online")
            process.send_signal(signum)

            async def offline() -> bool:
                return bool(seen) and seen[-1].state == "offline"

            await async_wait_for(offline, timeout=30, what="offline status")
            exit_code = await asyncio.to_thread(process.wait, 30)
    return [*seen, AgentStatus(state="offline", dropped=exit_code)]


async def test_last_will_arrives_when_the_agent_is_killed(broker: Broker, tmp_path: Path) -> None:
    seen = await run_until_online_then(broker, tmp_path, signal.SIGKILL)
    assert seen[-2].state == "offline"
    assert seen[-1].dropped == -signal.SIGKILL  # really killed: the will, not a goodbye, said offline


async def test_sigterm_shuts_down_cleanly_and_says_offline(broker: Broker, tmp_path: Path) -> None:
    seen = await run_until_online_then(broker, tmp_path, signal.SIGTERM)
    assert seen[-2].state == "offline"
    assert seen[-1].dropped == 0  # exit code 0
