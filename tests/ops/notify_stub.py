"""A stand-in for ``mpm-agent run``: start-up checks, READY=1, a work loop feeding the watchdog.

Run as ``python -m tests.ops.notify_stub CONFIG``. The work loop reports progress until it gets
SIGUSR1, then hangs the way a stuck device read would (the event loop itself stays alive).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from edge_agent import systemd_notify
from edge_agent.ops.startup_checks import announce, run_startup_checks
from edge_agent.settings_layers import load_layered


class StubConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    database: Path
    ports: list[str] = []


async def work() -> None:
    stall = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, stall.set)
    watchdog = systemd_notify.Watchdog.from_environment()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(watchdog.run(), name="watchdog")
        while not stall.is_set():
            watchdog.progress()
            await asyncio.sleep(0.01)  # one "turn" of real work
        systemd_notify.status("stub: work loop stalled")
        await asyncio.Event().wait()  # hung forever, like a read that never returns


def main(argv: list[str]) -> int:
    config_path = Path(argv[0])
    report = run_startup_checks(
        lambda: load_layered(StubConfig, config_path, os.environ)[0],
        database_path=lambda config: config.database,
        serial_ports=lambda config: config.ports,
        port_wait_s=0.2,
    )
    if not announce(report):
        return report.exit_code or 1
    asyncio.run(work())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
