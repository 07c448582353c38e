"""The agent's retained status: built from outbox stats and device health, published periodically.

Published every ``interval_s`` and as soon as a device changes state (``DeviceHealth`` is polled
every ``STATE_POLL_S``; it has no callbacks). Publishing goes through the link, which drops the
message when not connected and sends the current status first thing on every connect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Final

from edge_agent import __version__
from edge_agent.device_health import DeviceHealth
from edge_agent.outbox import Outbox
from firmware_protocols.sync import AgentStatus

STATE_POLL_S: Final = 0.5
OUTBOX_ALARM_NAME: Final = "@outbox"

Publish = Callable[[AgentStatus], Awaitable[None]]


class StatusReporter:
    def __init__(self, outbox: Outbox, health: DeviceHealth, *, interval_s: float) -> None:
        self._outbox, self._health, self._interval_s = outbox, health, interval_s

    async def current(self) -> AgentStatus:
        """The online status as of now."""
        stats = await self._outbox.stats()
        return AgentStatus(
            state="online",
            agent_version=__version__,
            at=dt.datetime.now(dt.UTC),
            backlog_rows=stats.backlog_rows,
            backlog_bytes=stats.bytes,
            oldest_unacked_age_s=stats.oldest_unacked_age_s,
            dropped=stats.dropped_total,
            devices=self._devices(stats.full),
        )

    def _devices(self, outbox_full: bool) -> dict[str, str]:
        devices: dict[str, str] = dict(self._health.snapshot())
        if outbox_full:  # the contract has no alarm field yet; the outbox shows up as a "device"
            devices[OUTBOX_ALARM_NAME] = "full"
        return devices

    async def run(self, publish: Publish) -> None:
        """Publish on every interval and on every device state change."""
        last_devices = self._health.snapshot()
        next_at = time.monotonic() + self._interval_s
        while True:
            await asyncio.sleep(STATE_POLL_S)
            devices = self._health.snapshot()
            if devices != last_devices or time.monotonic() >= next_at:
                await publish(await self.current())
                last_devices, next_at = devices, time.monotonic() + self._interval_s
