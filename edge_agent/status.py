"""The agent's retained status: built from outbox stats and device health, published periodically.

Published every ``interval_s`` and as soon as a device changes state (``DeviceHealth`` is polled
every ``STATE_POLL_S``; it has no callbacks). Publishing goes through the link, which drops the
message when not connected and sends the current status first thing on every connect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Final

from edge_agent import __version__
from edge_agent.device_health import DeviceHealth
from edge_agent.outbox import Outbox
from firmware_protocols.sync import AgentStatus

STATE_POLL_S: Final = 0.5

log = logging.getLogger(__name__)


def agent_version() -> str:
    """The package's version (a test keeps it equal to the installed distribution's).

    Not ``importlib.metadata.version``: that import alone (email, zipfile, csv, ...) costs the
    running agent ≈ 1 MB resident, and the answer never changes while it runs.
    """
    return __version__


Publish = Callable[[AgentStatus], Awaitable[None]]


class StatusReporter:
    def __init__(self, outbox: Outbox, health: DeviceHealth, *, interval_s: float) -> None:
        self._outbox, self._health, self._interval_s = outbox, health, interval_s

    async def current(self) -> AgentStatus:
        """The online status as of now."""
        stats = await self._outbox.stats()
        return AgentStatus(
            state="online",
            agent_version=agent_version(),
            at=dt.datetime.now(dt.UTC),
            backlog_rows=stats.backlog_rows,
            backlog_bytes=stats.bytes,
            oldest_unacked_age_s=stats.oldest_unacked_age_s,
            dropped=stats.dropped_total,
            outbox_full=stats.full,
            devices=dict(self._health.snapshot()),
            device_errors={name: n for name, n in self._health.error_counts().items() if n},
        )

    async def run(self, publish: Publish, *, on_progress: Callable[[], None] = lambda: None) -> None:
        """Publish on every interval and on every device state change.

        ``on_progress`` (the systemd watchdog) is called after each status was built from the outbox,
        so pings stop when the event loop or the database stalls.
        """
        last_devices = self._health.snapshot()
        next_at = time.monotonic() + self._interval_s
        while True:
            await asyncio.sleep(STATE_POLL_S)
            devices = self._health.snapshot()
            if devices != last_devices or time.monotonic() >= next_at:
                try:
                    current = await self.current()
                except sqlite3.OperationalError as exc:
                    # A stalled or locked database: no progress is reported, so a stall that lasts
                    # makes the systemd watchdog restart us; a short one costs one status message.
                    log.warning("status: outbox statistics unavailable: %s", exc)
                    continue
                on_progress()
                await publish(current)
                last_devices, next_at = devices, time.monotonic() + self._interval_s
