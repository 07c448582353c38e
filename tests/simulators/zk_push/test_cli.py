"""``mpm-sim zk-push`` as a process against the agent's zk_push driver; the state file round-trip."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from firmware_protocols import zk_push
from firmware_protocols.sync import EventKind
from simulators.zk_push.state import LogEntry, TerminalMemory, from_json, to_json
from tests.edge_agent.drivers.zk_push_support import SN, running_driver
from tests.support.polling import async_wait_for


async def test_cli_terminal_punches_reach_the_driver_once_each(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"pin": "1001", "name": "张三"}, {"pin": "1002", "name": "李四"}]), "utf-8")
    state = tmp_path / "terminal.json"
    log_path = tmp_path / "terminal.log"
    async with running_driver() as run, _opened(log_path) as log:
        process = await asyncio.to_thread(
            subprocess.Popen,
            [
                sys.executable,
                "-m",
                "simulators.cli",
                "zk-push",
                "--server",
                run.url,
                "--sn",
                SN,
                "--users",
                str(users),
                "--punch-every",
                "0.2",
                "--state",
                str(state),
                "--language",
                "83",
                "--path-style",
                "aspx",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:

            async def three_punches() -> bool:
                return sum(e.kind is EventKind.PUNCH for e in run.sink.events) >= 3

            await async_wait_for(three_punches, timeout=20, what="three punches from the CLI terminal")
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 10)
        assert process.returncode == 0, log_path.read_text(errors="replace")
        keys = [e.dedup_key for e in run.sink.events if e.kind is EventKind.PUNCH]
        assert len(keys) == len(set(keys))
        assert run.driver.metrics["users_reported"] == 2
    saved = json.loads(state.read_text("utf-8"))
    assert {u["pin"] for u in saved["users"]} == {"1001", "1002"}
    assert saved["counters"]["initialisations"] == 1


def test_state_round_trip() -> None:
    memory = TerminalMemory(next_stamp=3, uploaded_stamp=1)
    memory.users["1"] = zk_push.UserEntry(pin="1", name="张三")
    memory.log.append(LogEntry(stamp=2, record=zk_push.AttRecord(pin="1", time="2024-01-02 08:30:00")))
    memory.pending_results.append(
        zk_push.CommandResult(id="5", return_code="0", cmd="INFO", extra=(("A", "1"),))
    )
    memory.pending_photos.append(("1", "20240102083000"))
    memory.counters["errors"] = 2
    assert from_json(json.loads(json.dumps(to_json(memory)))) == memory


@contextlib.asynccontextmanager
async def _opened(path: Path) -> AsyncIterator[BinaryIO]:
    with path.open("wb") as handle:
        yield handle
