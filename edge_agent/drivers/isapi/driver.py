"""The ISAPI face terminal driver: punches into the outbox, pictures never (PRIVACY.md BIO-1/2).

Loop: connect (deviceInfo → serial; picture upload off) → device up → pull mode: read AcsEvent
pages every ``poll_interval_s``; stream mode: open the alertStream, catch up by pull, then follow
it (a gap in ``serialNo`` triggers a catch-up pull; a dropped or silent stream is reopened).
Resume: ``_last_serial`` is only advanced after ``sink.accept`` returned (durable); after a restart
the whole log is read again and the sink's dedup on ``"{device serial}|{serialNo}"`` absorbs it.
Failure: device down (logged once by DeviceHealth), retry with exponential backoff and jitter; a
refused password is retried just as slowly (devices lock accounts after repeated failures).
Clock: event times are judged in ``serialNo`` order by one ``DeviceClock``; an implausible one sets
``Punch.clock_suspect`` and the punch is kept. Erasure: an event naming a tombstoned person (DEL-2)
is stored like any other, then that person is deleted from the terminal again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections.abc import Container, Sequence

from edge_agent.clock import DeviceClock, utcnow
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.isapi.client import DeviceAuthError, DeviceError, IsapiClient
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.isapi.mapping import is_punch, to_device_record
from edge_agent.records import DeviceRecord, EventSink
from firmware_protocols.errors import NEED_DATA
from firmware_protocols.isapi import AlertStreamDecoder
from firmware_protocols.isapi.acs_event import MAX_RESULTS_CAP, parse_time
from firmware_protocols.isapi.messages import (
    AcsEventCond,
    AcsEventRecord,
    PartSkipped,
    PictureDropped,
    SearchStatus,
    StreamMessage,
    UserInfo,
    UserSearchCond,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass
class IsapiMetrics:
    """Counters for ``/metrics``: pictures dropped unread (BIO-2), stream reopenings, non-punch events."""

    pictures_dropped: int = 0
    stream_reconnects: int = 0
    events_ignored: int = 0
    parts_skipped: int = 0
    clock_suspect: int = 0
    tombstone_deletes: int = 0


class _Backoff:
    def __init__(self, initial_s: float, max_s: float) -> None:
        self._initial, self._max, self._failures = initial_s, max_s, 0

    def next_delay(self) -> float:
        delay = min(self._max, self._initial * 2.0**self._failures)
        self._failures += 1
        return delay * random.uniform(0.9, 1.1)  # jitter, not crypto

    def reset(self) -> None:
        self._failures = 0


class IsapiFaceDriver:
    def __init__(
        self,
        config: IsapiFaceConfig,
        sink: EventSink,
        health: DeviceHealth,
        *,
        tombstones: Container[str] = frozenset(),
    ) -> None:
        self.config = config
        self._sink = sink
        self._health = health
        self._tombstones = tombstones
        self._clock = DeviceClock()
        self._serial = ""
        self._last_serial: int | None = None
        self._backoff = _Backoff(config.backoff_initial_s, config.backoff_max_s)
        self.metrics = IsapiMetrics()
        health.register(config.name)

    async def run(self) -> None:
        """Run until cancelled."""
        while True:
            try:
                async with IsapiClient(self.config) as client:
                    await self._session(client)
            except DeviceError as exc:
                self._health.down(self.config.name, str(exc))
            await asyncio.sleep(self._backoff.next_delay())

    async def _session(self, client: IsapiClient) -> None:
        info = await client.device_info()
        await client.turn_pictures_off()
        self._serial = info.serial_number
        self._health.up(self.config.name)
        self._backoff.reset()
        if self.config.mode == "pull":
            while True:
                await self._pull(client)
                await asyncio.sleep(self.config.poll_interval_s)
        while True:
            await self._follow_stream(client)
            self.metrics.stream_reconnects += 1
            await asyncio.sleep(self.config.backoff_initial_s)

    # -- pull -------------------------------------------------------------------------------------
    async def _pull(self, client: IsapiClient) -> None:
        """Read every event after ``_last_serial``, page by page, each page accepted durably."""
        search_id, position = uuid.uuid4().hex, 0
        begin = None if self._last_serial is None else self._last_serial + 1
        while True:
            cond = AcsEventCond(
                search_id=search_id, position=position, max_results=MAX_RESULTS_CAP, begin_serial_no=begin
            )
            page = await client.search_events(cond)
            await self._accept(client, page.records)
            position += len(page.records)
            if page.status is not SearchStatus.MORE or not page.records:
                return

    async def _accept(self, client: IsapiClient, records: Sequence[AcsEventRecord]) -> None:
        fresh = [r for r in records if self._last_serial is None or r.serial_no > self._last_serial]
        punches = [self._punch(r) for r in fresh if is_punch(r)]
        self.metrics.events_ignored += len(fresh) - len(punches)
        if punches:
            await self._sink.accept(punches)
        if fresh:
            self._last_serial = max(r.serial_no for r in fresh)
        await self._erase_tombstoned(client, fresh)

    def _punch(self, record: AcsEventRecord) -> DeviceRecord:
        """The punch, ``clock_suspect`` when its time is implausible (judged in serialNo order)."""
        issue = self._clock.judge(parse_time(record.time), now=utcnow())
        if issue is not None:
            self.metrics.clock_suspect += 1
            log.debug("device %s: event time %s is suspect (%s)", self.config.name, record.time, issue)
        return to_device_record(self.config.name, self._serial, record, clock_suspect=issue is not None)

    async def _erase_tombstoned(self, client: IsapiClient, records: Sequence[AcsEventRecord]) -> None:
        """DEL-2: people erased on the cloud's order who show up in events are deleted again."""
        pins = sorted({r.employee_id for r in records if r.employee_id and r.employee_id in self._tombstones})
        if not pins:
            return
        try:
            still_there = await _erase(client, tuple(pins))
        except DeviceAuthError:
            raise
        except DeviceError as exc:  # the events are stored; the next event of that person retries
            self._health.count_error(self.config.name, f"tombstone delete: {exc}")
            return
        self.metrics.tombstone_deletes += len(pins)
        log.info("device %s: erased PIN(s) %s reappeared; deleted again", self.config.name, ", ".join(pins))
        if still_there:
            log.warning("device %s: PIN(s) %s still present after delete", self.config.name, still_there)

    # -- stream -----------------------------------------------------------------------------------
    async def _follow_stream(self, client: IsapiClient) -> None:
        """Open the stream, catch up by pull, then follow it until it ends or falls silent."""
        try:
            async with client.alert_stream(self.config.stream_idle_timeout_s) as (content_type, chunks):
                decoder = AlertStreamDecoder(content_type)
                await self._pull(client)
                async for chunk in chunks:
                    decoder.feed(chunk)
                    while (message := decoder.next_message()) is not NEED_DATA:
                        await self._on_stream_message(client, message)
        except DeviceError as exc:
            if isinstance(exc, DeviceAuthError):
                raise
            log.info("device %s: alertStream ended (%s); reopening", self.config.name, exc)
            await self._probe(client)

    async def _probe(self, client: IsapiClient) -> None:
        """A cheap request: if the device itself is gone, this raises and the session ends."""
        await client.device_info()

    async def _on_stream_message(self, client: IsapiClient, message: StreamMessage) -> None:
        if isinstance(message, AcsEventRecord):
            gap = self._last_serial is not None and message.serial_no > self._last_serial + 1
            await (self._pull(client) if gap else self._accept(client, [message]))
        elif isinstance(message, PictureDropped):
            self.metrics.pictures_dropped += 1
            log.debug("device %s: dropped a %d-byte picture unread", self.config.name, message.size)
        elif isinstance(message, PartSkipped):
            self.metrics.parts_skipped += 1
            self._health.count_error(self.config.name, f"alertStream: {message.reason}")

    # -- users (cloud commands) ---------------------------------------------------------------------
    async def upsert_user(self, pin: str, name: str) -> bool:
        """Record person ``pin`` named ``name``; True once a search finds them with that name."""
        try:
            async with IsapiClient(self.config) as client:
                try:
                    await client.add_user(UserInfo(employee_no=pin, name=name))
                except DeviceAuthError:
                    raise
                except DeviceError as exc:  # e.g. already enrolled: the search below decides
                    log.info("device %s: user record refused (%s); reading back", self.config.name, exc)
                found = await _find_users(client, (pin,))
        except DeviceError as exc:
            log.warning("device %s: recording a user failed: %s", self.config.name, exc)
            return False
        return any(user.employee_no == pin and user.name == name for user in found)

    async def delete_user(self, pin: str) -> bool:
        """Remove person ``pin`` from the terminal; True once a search no longer finds them (DEL-1)."""
        try:
            async with IsapiClient(self.config) as client:
                still_there = await _erase(client, (pin,))
        except DeviceError as exc:
            log.warning("device %s: deleting a user failed: %s", self.config.name, exc)
            return False
        return not still_there

    async def user_pins(self) -> frozenset[str] | None:
        """Every person's number on the terminal (cloud ``roster_check``); None when unreachable."""
        try:
            async with IsapiClient(self.config) as client:
                return await _all_pins(client)
        except DeviceError as exc:
            log.warning("device %s: reading the users failed: %s", self.config.name, exc)
            return None


MAX_USERS_READ = 10_000  # a terminal holding more is read only that far (the check reports what it saw)


async def _all_pins(client: IsapiClient) -> frozenset[str]:
    """Page through ``UserInfoSearch`` until every match is read (or ``MAX_USERS_READ``)."""
    pins: set[str] = set()
    search_id = uuid.uuid4().hex
    while len(pins) < MAX_USERS_READ:
        cond = UserSearchCond(search_id=search_id, position=len(pins), max_results=MAX_RESULTS_CAP)
        page = await client.search_users(cond)
        pins |= {user.employee_no for user in page.users}
        if not page.users or len(pins) >= page.total_matches:
            break
    return frozenset(pins)


async def _find_users(client: IsapiClient, pins: tuple[str, ...]) -> tuple[UserInfo, ...]:
    """The terminal's records of ``pins`` (one search page: at most a few people are asked for)."""
    cond = UserSearchCond(search_id=uuid.uuid4().hex, max_results=len(pins), employee_nos=pins)
    page = await client.search_users(cond)
    return tuple(user for user in page.users if user.employee_no in pins)


async def _erase(client: IsapiClient, pins: tuple[str, ...]) -> list[str]:
    """Delete ``pins`` and search them back, a search page at a time; the ones still enrolled."""
    still_there: set[str] = set()
    for start in range(0, len(pins), MAX_RESULTS_CAP):
        chunk = pins[start : start + MAX_RESULTS_CAP]
        await client.delete_users(chunk)
        still_there |= {user.employee_no for user in await _find_users(client, chunk)}
    return sorted(still_there)
