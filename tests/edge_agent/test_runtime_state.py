"""The running agent's runtime state: written only on change, readable by ``status``, exported as metrics."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from edge_agent.observability import AgentSnapshot, render_metrics
from edge_agent.runtime_state import publish_runtime_state, read_runtime_state, runtime_state_path
from tests.support.polling import async_wait_for


async def test_the_state_file_is_rewritten_only_when_the_state_changed(tmp_path: Path) -> None:
    path = runtime_state_path(tmp_path / "outbox.db")
    assert path.name == "outbox.runtime.json"
    state: dict[str, object] = {"tasks": {"link": {"restarts": 0}}}
    changed = asyncio.Event()
    task = asyncio.create_task(publish_runtime_state(path, lambda: dict(state), changed, interval_s=0.05))
    try:

        async def written() -> dict[str, object] | None:
            return read_runtime_state(path)

        first = await async_wait_for(written, what="the first write")
        assert first["tasks"] == {"link": {"restarts": 0}}
        assert path.stat().st_mode & 0o777 == 0o600
        inode = path.stat().st_ino
        for _ in range(5):  # several looks with nothing new: the file is left alone (no SD card wear)
            changed.set()
            await async_wait_for(lambda: _cleared(changed), what="the writer looked again")
        assert path.stat().st_ino == inode
        state["tasks"] = {"link": {"restarts": 1}}  # control: a change is written
        changed.set()

        async def rewritten() -> bool:
            return (read_runtime_state(path) or {}).get("tasks") == {"link": {"restarts": 1}}

        await async_wait_for(rewritten, what="the changed state written")
        assert path.stat().st_ino != inode
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _cleared(event: asyncio.Event) -> bool:
    return not event.is_set()


def test_an_unreadable_state_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "outbox.runtime.json").write_text("[1, 2")
    assert read_runtime_state(tmp_path / "outbox.runtime.json") is None
    assert read_runtime_state(tmp_path / "missing.json") is None


def test_task_restarts_and_lan_counters_are_metrics() -> None:
    snapshot = AgentSnapshot(
        outbox=None, database_error="x", link_connected=False, link_counters={}, devices={},
        device_errors={}, pictures_dropped={}, task_restarts={"driver:gate": 3, "link": 0},
        lan_counters={"gate": {"open": 7, "refused_global": 1346, "wrong_address": 2}},
    )  # fmt: skip
    lines = render_metrics(snapshot).splitlines()
    assert 'mpm_task_restarts_total{task="driver:gate"} 3' in lines
    assert 'mpm_lan_connections_open{listener="gate"} 7' in lines
    assert 'mpm_lan_events_total{listener="gate",event="refused_global"} 1346' in lines
    assert 'mpm_lan_events_total{listener="gate",event="wrong_address"} 2' in lines
    assert 'mpm_lan_events_total{listener="gate",event="body_deadline"} 0' in lines
