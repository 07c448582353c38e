"""A real agent process whose zk_push listener loses its port: the task is restarted with backoff,
``mpm-agent status --json`` shows the restarts, and once the port is free terminals are served again.
The control runs the same driver without supervision: the failure ends it (and, before, the agent)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zk_push.driver import ZkPushDriver
from simulators.zk_push import PushTerminal
from tests.e2e.push_agent import agent_status, log_tail, push_agent, write_push_config
from tests.edge_agent.drivers.zk_push_support import MemorySink
from tests.support.polling import wait_for

SN = "SIMSUP01"


def _taken_port(port: int) -> socket.socket:
    """A listening socket on ``port``: the agent's listener cannot bind there while it is open."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    return holder


def _driver_task(status: dict[str, Any]) -> dict[str, Any] | None:
    task: dict[str, Any] | None = status.get("runtime", {}).get("tasks", {}).get("driver:gate")
    return task


def test_a_listener_that_loses_its_port_is_restarted_and_reported(tmp_path: Path) -> None:
    config, push_port, _metrics = write_push_config(tmp_path, (SN,))
    holder = _taken_port(push_port)
    with contextlib.closing(holder), push_agent(config) as agent:
        failed = wait_for(
            lambda: (t := _driver_task(agent_status(config))) and t["restarts"] >= 2 and t,
            timeout=60,
            what="two restarts of driver:gate in mpm-agent status",
        )
        assert "Errno 98" in failed["last_error"] or "in use" in failed["last_error"]
        assert agent.poll() is None, log_tail(config)  # the agent lives on
        holder.close()
        terminal = PushTerminal(f"http://127.0.0.1:{push_port}", SN, timeout_s=5)
        terminal.punch("1001")
        wait_for(lambda: _synced(terminal), timeout=60, what="the terminal served after the port came back")
        running = wait_for(
            lambda: (t := _driver_task(agent_status(config))) and t["state"] == "running" and t,
            timeout=30,
            what="driver:gate running again",
        )
        assert running["restarts"] >= 2
        assert agent_status(config)["backlog_rows"] == 1
        assert agent.poll() is None


def _synced(terminal: PushTerminal) -> bool:
    try:
        terminal.sync_once()
    except OSError:
        return False
    return terminal.memory.unsent() == []


async def test_control_unsupervised_the_same_failure_ends_the_driver(tmp_path: Path) -> None:
    port = _free_listen_port()
    holder = _taken_port(port)
    config = ZkPushConfig(
        kind="zk_push", name="gate", listen_host="127.0.0.1", listen_port=port, allowed_serials=(SN,)
    )
    driver = ZkPushDriver(config, MemorySink(), DeviceHealth())
    try:
        with pytest.raises(OSError, match="address already in use"):
            await asyncio.wait_for(driver.run(), 10)
    finally:
        holder.close()


def _free_listen_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
