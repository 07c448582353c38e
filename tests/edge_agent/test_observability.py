"""``/healthz``, ``/readyz`` and ``/metrics`` of the real agent (in-process) against a real Mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from edge_agent.app import Agent
from edge_agent.config import AgentConfig
from edge_agent.observability import AgentSnapshot, readiness, render_metrics
from edge_agent.outbox import OutboxStats
from simulators.zk_terminal import ZkTerminal
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import async_wait_for


def agent_config(tmp_path: Path, mqtt_url: str, zk_port: int, max_age_s: float = 600.0) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "agent_id": "site-obs",
            "status_interval_s": 0.5,
            "mqtt": {"url": mqtt_url, "keepalive_s": 5},
            "outbox": {"path": str(tmp_path / "outbox.db")},
            "observability": {"listen": f"127.0.0.1:{free_port()}", "ready_max_backlog_age_s": max_age_s},
            "devices": [
                {"kind": "zkteco", "name": "door", "host": "127.0.0.1", "port": zk_port, "timeout_s": 1,
                 "reconnect_min_s": 0.1, "reconnect_max_s": 0.5},
            ],
        }
    )  # fmt: skip


@asynccontextmanager
async def running_agent(config: AgentConfig) -> AsyncIterator[httpx.AsyncClient]:
    """The agent as a task; yields an HTTP client on its observability address."""
    stop = asyncio.Event()
    task = asyncio.create_task(Agent(config).run(stop), name="agent")
    base = f"http://{config.observability.listen}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            await async_wait_for(lambda: _answers(client), what="observability server up")
            yield client
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def _answers(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False


def sample(text: str, name: str) -> str | None:
    """The value of the sample line starting with ``name `` (name includes any labels)."""
    return next((line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")), None)


async def test_connected_agent_is_ready_and_exports_metrics(tmp_path: Path, broker: Broker) -> None:
    zk_port = free_port()
    async with (
        ZkTerminal(port=zk_port, records=3),
        running_agent(agent_config(tmp_path, broker.url, zk_port)) as http,
    ):
        assert (await http.get("/healthz")).json() == {"status": "alive"}

        async def connected_and_sent() -> str | None:
            text = (await http.get("/metrics")).text
            door_up = sample(text, 'mpm_device_up{device="door"}') == "1"
            sent = sample(text, "mpm_link_batches_sent_total") == "1"
            return text if door_up and sent and sample(text, "mpm_link_connected") == "1" else None

        # No cloud acks here: the three punches go out in one batch and stay in the outbox.
        text = await async_wait_for(connected_and_sent, what="link up, door up, one batch sent")
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["link_connected"] is True
        assert ready.headers["content-type"] == "application/json"
        assert "# TYPE mpm_link_batches_sent_total counter" in text
        assert sample(text, "mpm_outbox_database_ok") == "1"
        assert sample(text, "mpm_outbox_backlog_rows") == "3"
        assert sample(text, "mpm_outbox_dropped_total") == "0"
        assert sample(text, 'mpm_device_errors_total{device="door"}') == "0"
        assert (await http.get("/nope")).status_code == 404
        assert (await http.post("/metrics")).status_code == 405


async def test_link_down_is_ready_until_the_backlog_is_too_old(tmp_path: Path) -> None:
    zk_port = free_port()
    config = agent_config(tmp_path, f"mqtt://127.0.0.1:{free_port()}", zk_port, max_age_s=1.5)
    async with ZkTerminal(port=zk_port, records=3), running_agent(config) as http:

        async def backlog() -> httpx.Response | None:
            reply = await http.get("/readyz")
            return (
                reply if sample((await http.get("/metrics")).text, "mpm_outbox_backlog_rows") == "3" else None
            )

        fresh = await async_wait_for(backlog, what="3 punches in the outbox")
        assert fresh.status_code == 200  # control: link down, but the backlog is young
        assert fresh.json()["link_connected"] is False

        async def not_ready() -> httpx.Response | None:
            reply = await http.get("/readyz")
            return reply if reply.status_code == 503 else None

        stale = await async_wait_for(not_ready, what="readyz 503 once the backlog ages")
        assert stale.json()["ready"] is False
        assert "link down and the oldest unsent event" in stale.json()["reason"]
        assert sample((await http.get("/metrics")).text, "mpm_link_connected") == "0"


def _snapshot(**changes: object) -> AgentSnapshot:
    stats = OutboxStats(backlog_rows=2, bytes=4096, oldest_unacked_age_s=5.0, dropped_by_kind={"punch": 1})
    values: dict[str, object] = {
        "outbox": stats, "database_error": None, "link_connected": False,
        "link_counters": {"batches_sent": 4}, "devices": {'we"ird\\name': "up", "b": "down"},
        "device_errors": {"b": 2}, "pictures_dropped": {},
    }  # fmt: skip
    values.update(changes)
    return AgentSnapshot(**values)  # type: ignore[arg-type]


def test_broken_database_is_not_ready() -> None:
    control = readiness(_snapshot(), max_backlog_age_s=60)
    assert control["ready"] is True
    broken = readiness(
        _snapshot(outbox=None, database_error="DatabaseError: file is not a database"), max_backlog_age_s=60
    )
    assert broken["ready"] is False
    assert broken["reason"] == "outbox database: DatabaseError: file is not a database"
    assert "mpm_outbox_backlog_rows" not in render_metrics(_snapshot(outbox=None, database_error="x"))


def test_metrics_text_escapes_labels_and_skips_empty_families() -> None:
    text = render_metrics(_snapshot())
    assert 'mpm_device_up{device="we\\"ird\\\\name"} 1' in text
    assert 'mpm_device_up{device="b"} 0' in text
    assert "mpm_link_batches_sent_total 4" in text
    assert "mpm_outbox_dropped_total 1" in text
    assert "mpm_pictures_dropped_total" not in text  # no driver counts pictures here
    assert "mpm_link_batches_acked_total" not in text  # the sender does not count acks (yet)
    assert (
        render_metrics(_snapshot(pictures_dropped={"face": 3})).count(
            'mpm_pictures_dropped_total{device="face"} 3'
        )
        == 1
    )
