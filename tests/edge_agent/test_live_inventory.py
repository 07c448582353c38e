"""``apply_inventory`` on a running agent (real outbox, real broker): devices started and stopped
live, local pins kept, a stale version not applied again, and a driver that cannot be built leaves
the agent with what it ran before."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge_agent.app import Agent
from edge_agent.config import AgentConfig, load_config
from edge_agent.live_devices import LiveDevices
from edge_agent.site_inventory import load_saved
from firmware_protocols.sync import Command, CommandResult
from tests.support.broker import Broker
from tests.support.polling import async_wait_for

LOCAL_DOOR = {"kind": "zkteco", "name": "front", "host": "127.0.0.1", "port": 9}


def door(name: str, host: str = "127.0.0.2") -> dict[str, Any]:
    return {"kind": "zkteco", "name": name, "host": host, "port": 9}


def inventory(version: int, *devices: dict[str, Any]) -> Command:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return Command(
        cmd_id=f"inv-{version}",
        expires_at=expires,
        type="apply_inventory",
        args={"version": version, "devices": list(devices)},
    )


def config_file(tmp_path: Path, broker: Broker) -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(
        f'agent_id = "live-1"\n[mqtt]\nurl = "{broker.url}"\n'
        f'[outbox]\npath = "{tmp_path / "outbox.db"}"\n[observability]\nenabled = false\n'
        '[[devices]]\nkind = "zkteco"\nname = "front"\nhost = "127.0.0.1"\nport = 9\n'
    )
    return load_config(path)


@pytest.fixture
async def agent(tmp_path: Path, broker: Broker) -> AsyncIterator[Agent]:
    running = Agent(config_file(tmp_path, broker))
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))

    async def started() -> bool:
        return running.devices is not None and "driver:front" in running.supervisor.tasks

    await async_wait_for(started, timeout=20, what="the agent running its local device")
    yield running
    stop.set()
    await asyncio.wait_for(task, timeout=30)  # a clean shutdown, even with a driver failing in a loop


async def supervised(agent: Agent, task: str) -> None:
    async def probe() -> bool:
        return task in agent.supervisor.tasks

    await async_wait_for(probe, timeout=10, what=f"{task} running under the supervisor")


def running_devices(agent: Agent) -> dict[str, str]:
    assert agent.devices is not None
    return {name: getattr(config, "host", "") for name, config in agent.devices.configs.items()}


async def test_devices_are_started_and_stopped_live_and_local_pins_win(agent: Agent, tmp_path: Path) -> None:
    first = await agent.apply_inventory(inventory(1, door("back"), door("front", host="10.9.9.9")))
    assert first.ok, first.detail
    assert "started: back" in first.detail
    assert "pinned locally: front" in first.detail
    assert running_devices(agent) == {"front": "127.0.0.1", "back": "127.0.0.2"}
    await supervised(agent, "driver:back")
    assert "back" in agent.health.snapshot()

    second = await agent.apply_inventory(inventory(2))
    assert second.ok, second.detail
    assert "stopped: back" in second.detail
    assert running_devices(agent) == {"front": "127.0.0.1"}  # the local device is never the cloud's to remove
    assert "driver:back" not in agent.supervisor.tasks
    assert "back" not in agent.health.snapshot()
    saved = load_saved(tmp_path)
    assert saved is not None
    assert saved.version == 2


async def test_a_stale_or_bad_version_changes_nothing(agent: Agent) -> None:
    assert (await agent.apply_inventory(inventory(3, door("back")))).ok
    stale = await agent.apply_inventory(inventory(2, door("other")))
    assert (stale.ok, "not newer" in stale.detail) == (True, True)
    bad = await agent.apply_inventory(inventory(4, door("back"), {"kind": "zkteco", "name": "x", "port": 9}))
    assert not bad.ok
    assert "devices.1.zkteco.host" in bad.detail
    assert "still running inventory version 3" in bad.detail
    assert running_devices(agent) == {"front": "127.0.0.1", "back": "127.0.0.2"}


async def test_a_driver_that_cannot_be_built_restores_what_ran(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await agent.apply_inventory(inventory(1, door("back")))).ok
    build = LiveDevices.build

    def build_failing_for_boom(self: LiveDevices, configs: Any) -> None:
        if any(c.name == "boom" for c in configs):
            raise OSError("no such device")
        build(self, configs)

    monkeypatch.setattr(LiveDevices, "build", build_failing_for_boom)
    result: CommandResult = await agent.apply_inventory(inventory(2, door("boom")))
    assert not result.ok
    assert "OSError: no such device" in result.detail
    assert running_devices(agent) == {"front": "127.0.0.1", "back": "127.0.0.2"}
    await supervised(agent, "driver:back")
