"""The ZKTeco terminal driver: pull the log, follow live punches, re-pull, reconnect forever.

Loop: connect (+ comm key) → read the serial number → pull the whole log into the sink → register
for EF_ATTLOG → accept live punches as they come and re-pull every ``pull_interval_s``. Any failure
marks the device down (DeviceHealth logs the transition once), waits a jittered, growing backoff and
starts again; the first successful pull marks it up. The device log is never cleared here: that
happens only after the cloud acked what was read.
"""

from __future__ import annotations

import asyncio
import logging
import random
from zoneinfo import ZoneInfo

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zkteco.client import ZkClient
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from edge_agent.drivers.zkteco.errors import DeviceError
from edge_agent.drivers.zkteco.punches import punch_record
from edge_agent.records import DeviceRecord, EventSink
from firmware_protocols.zkteco import AttendanceRecord, RealtimeAttendance

log = logging.getLogger(__name__)

ACCEPT_BATCH = 1000  # records per sink call while pulling a large log


class ZkTerminalDriver:
    def __init__(self, config: ZkTerminalConfig, sink: EventSink, health: DeviceHealth) -> None:
        self._config = config
        self._sink = sink
        self._health = health
        self._zone = ZoneInfo(config.timezone)
        self._backoff_s = config.reconnect_min_s

    async def run(self) -> None:
        """Serve the terminal until cancelled."""
        self._health.register(self._config.name)
        while True:
            try:
                await self._session()
            except DeviceError as exc:
                self._health.down(self._config.name, str(exc))
                self._health.count_error(self._config.name, type(exc.__cause__ or exc).__name__)
                await asyncio.sleep(self._next_backoff())

    def _next_backoff(self) -> float:
        """Full-jitter exponential backoff between ``reconnect_min_s`` and ``reconnect_max_s``."""
        delay = random.uniform(self._backoff_s / 2, self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self._config.reconnect_max_s)
        return delay

    async def _session(self) -> None:
        config = self._config
        client = await ZkClient.open(
            config.host, config.port, transport=config.transport, request_timeout_s=config.timeout_s,
            encoding=config.encoding,
        )  # fmt: skip
        async with client:
            await client.connect(config.comm_key)
            serial = await client.serial_number()
            await self._pull(client, serial)
            await client.register_events()
            self._health.up(config.name)
            self._backoff_s = config.reconnect_min_s
            await self._follow(client, serial)

    async def _follow(self, client: ZkClient, serial: str) -> None:
        """Accept live punches; re-pull the whole log every ``pull_interval_s``."""
        loop = asyncio.get_running_loop()
        while True:
            deadline = loop.time() + self._config.pull_interval_s
            while (event := await _event_before(client, deadline)) is not None:
                await self._sink.accept([self._record(serial, event)])
            await self._pull(client, serial)

    async def _pull(self, client: ZkClient, serial: str) -> None:
        records = [self._record(serial, r) for r in await client.attendance()]
        for start in range(0, len(records), ACCEPT_BATCH):
            await self._sink.accept(records[start : start + ACCEPT_BATCH])
        log.debug("%s: pulled %d records", self._config.name, len(records))

    def _record(self, serial: str, record: AttendanceRecord | RealtimeAttendance) -> DeviceRecord:
        return punch_record(device=self._config.name, serial=serial, zone=self._zone, record=record)


async def _event_before(client: ZkClient, deadline: float) -> RealtimeAttendance | None:
    """The next live event, or None once ``deadline`` (loop time) passes."""
    try:
        async with asyncio.timeout_at(deadline):
            return await client.next_event()
    except TimeoutError:
        return None
