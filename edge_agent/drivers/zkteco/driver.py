"""The ZKTeco terminal driver: pull the log, follow live punches, clear what the cloud acked.

Session: connect (+ comm key) → serial number → set the terminal's clock from the agent's → pull
the whole log into the sink → register for EF_ATTLOG → device up → accept live punches; every
``pull_interval_s`` pull again (and every ``clock_sync_interval_s`` set the clock again). Any
``DeviceError`` ends the session: device down (DeviceHealth logs the transition once), a jittered,
growing backoff, reconnect. Cloud commands (users, clock) use the live session's client; its lock
keeps their requests from interleaving with the loop's.

Clearing the terminal's log (DESIGN: only after the cloud acked what was read from it) needs a
sink that can say what was acked (``AckLedger``: the Outbox); with a plain EventSink the log is
never cleared. After each pull the keys not yet acked are *pending*; ack notices remove them, and
when none remain the loop wakes at once and clears: disable the terminal (no punches meanwhile),
re-read the whole log, store it, and clear only if every record of this re-read is acked. The log
cleared is then exactly a log the cloud holds; a punch that arrived after the pull makes the
re-read differ, becomes pending, and waits for its own ack. (A punch in the instant between the
re-read and the clear, on a terminal that ignores "disable", still arrives as a live event.)

Clock: each pull is judged in log order by a fresh ``DeviceClock``; live punches continue from
it. Implausible device times are flagged (``Punch.clock_suspect``), never dropped.
Tombstones (PRIVACY.md DEL-2): each pull also reads the users and deletes a tombstoned PIN again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Collection, Iterable
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from edge_agent.clock import DeviceClock, device_wall_time, reads_close, utcnow
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zkteco import users
from edge_agent.drivers.zkteco.client import ZkClient
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from edge_agent.drivers.zkteco.errors import DeviceError
from edge_agent.drivers.zkteco.punches import punch_record
from edge_agent.outbox import OutboxFull
from edge_agent.records import DeviceRecord, EventSink
from firmware_protocols.zkteco import AttendanceRecord, RealtimeAttendance

log = logging.getLogger(__name__)

ACCEPT_BATCH = 1000  # records per sink call while pulling a large log
CLOCK_SYNC_INTERVAL_S = 86_400.0


@runtime_checkable
class AckLedger(Protocol):
    """What a sink offers when it knows what the cloud acked (the Outbox does)."""

    def on_acked(self, listener: Callable[[str, frozenset[str]], None]) -> None: ...

    async def pending_keys(self, device: str, keys: Collection[str]) -> set[str]: ...


class ZkTerminalDriver:
    def __init__(
        self,
        config: ZkTerminalConfig,
        sink: EventSink,
        health: DeviceHealth,
        *,
        tombstones: Collection[str] = frozenset(),
        clock_sync_interval_s: float = CLOCK_SYNC_INTERVAL_S,
    ) -> None:
        self.config = config
        self._sink = sink
        self._health = health
        self._tombstones = tombstones
        self._clock_sync_interval_s = clock_sync_interval_s
        self._zone = ZoneInfo(config.timezone)
        self._backoff_s = config.reconnect_min_s
        self._client: ZkClient | None = None
        self._live_clock = DeviceClock()
        self._pending: set[str] = set()
        self._acked_meanwhile: set[str] | None = None  # collects ack notices during a pending query
        self._clear_due = asyncio.Event()
        self._ledger = sink if isinstance(sink, AckLedger) else None
        if self._ledger is not None:
            self._ledger.on_acked(self._on_acked)

    async def run(self) -> None:
        """Serve the terminal until cancelled."""
        self._health.register(self.config.name)
        while True:
            try:
                await self._session()
            except DeviceError as exc:
                self._health.down(self.config.name, str(exc))
                self._health.count_error(self.config.name, type(exc.__cause__ or exc).__name__)
                await asyncio.sleep(self._next_backoff())

    def _next_backoff(self) -> float:
        """Full-jitter exponential backoff between ``reconnect_min_s`` and ``reconnect_max_s``."""
        delay = random.uniform(self._backoff_s / 2, self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self.config.reconnect_max_s)
        return delay

    async def _session(self) -> None:
        config = self.config
        client = await ZkClient.open(
            config.host, config.port, transport=config.transport, request_timeout_s=config.timeout_s,
            encoding=config.encoding,
        )  # fmt: skip
        async with client:
            await client.connect(config.comm_key)
            # An agent killed while clearing the log leaves the terminal disabled (keypad locked):
            # enable it first thing, or nobody can punch until a person restarts the terminal.
            await client.enable()
            serial = await client.serial_number()
            await self._set_clock(client)
            await self._pull(client, serial)
            await client.register_events()
            self._client = client
            try:
                self._health.up(config.name)
                self._backoff_s = config.reconnect_min_s
                await self._follow(client, serial)
            finally:
                self._client = None

    async def _follow(self, client: ZkClient, serial: str) -> None:
        """Accept live punches; pull again every ``pull_interval_s``, or at once when all is acked."""
        loop = asyncio.get_running_loop()
        next_clock_sync = loop.time() + self._clock_sync_interval_s
        while True:
            deadline = loop.time() + self.config.pull_interval_s
            while (event := await _next_live(client, self._clear_due, deadline)) is not None:
                await self._store([self._record(serial, event, self._live_clock)])
            if self._clear_due.is_set():
                await self._clear_if_acked(client, serial)
            else:
                await self._pull(client, serial)
            if loop.time() >= next_clock_sync:
                if not await self._set_clock(client):
                    log.warning("%s: the terminal's clock did not take the time set", self.config.name)
                next_clock_sync = loop.time() + self._clock_sync_interval_s

    # -- the log ------------------------------------------------------------------------------

    async def _pull(self, client: ZkClient, serial: str) -> None:
        """Read and store the whole log, erase tombstoned users, clear the log if all is acked."""
        records = await self._read_log(client, serial)
        await self._erase_tombstoned(client)
        if self._ledger is None:
            return
        self._note_pending(await self._pending_of(records), log_size=len(records))
        if self._clear_due.is_set():
            await self._clear_if_acked(client, serial)

    async def _read_log(self, client: ZkClient, serial: str) -> list[DeviceRecord]:
        """The whole log, judged in log order, stored durably before this returns."""
        judge = DeviceClock()
        records = [self._record(serial, r, judge) for r in await client.attendance()]
        for start in range(0, len(records), ACCEPT_BATCH):
            if not await self._store(records[start : start + ACCEPT_BATCH]):
                break
        self._live_clock = judge
        log.debug("%s: read %d records", self.config.name, len(records))
        return records

    async def _store(self, records: list[DeviceRecord]) -> bool:
        """Accept ``records``; False when the outbox is full (back-pressure: the log keeps them)."""
        try:
            await self._sink.accept(records)
        except OutboxFull:
            log.warning("%s: outbox full; %d record(s) stay on the terminal", self.config.name, len(records))
            return False
        return True

    async def _clear_if_acked(self, client: ZkClient, serial: str) -> None:
        """Clear the log if a re-read (terminal disabled) finds only acked records."""
        await client.disable()
        try:
            records = await self._read_log(client, serial)
            pending = await self._pending_of(records)
            if records and not pending:
                await client.clear_attendance()
                log.info("%s: cleared %d acked records from the terminal", self.config.name, len(records))
                records = []
            self._note_pending(pending, log_size=len(records))
        finally:
            await client.enable()

    async def _pending_of(self, records: list[DeviceRecord]) -> set[str]:
        """The keys of ``records`` not acked yet, minus any acked while the query ran."""
        assert self._ledger is not None
        self._acked_meanwhile = set()
        try:
            pending = await self._ledger.pending_keys(self.config.name, _keys(records))
            return pending - self._acked_meanwhile
        finally:
            self._acked_meanwhile = None

    def _note_pending(self, pending: set[str], *, log_size: int) -> None:
        """Remember what still waits for an ack; a non-empty log with none waiting is due a clear."""
        self._pending = pending
        if log_size and not pending:
            self._clear_due.set()
        else:
            self._clear_due.clear()

    def _on_acked(self, device: str, keys: frozenset[str]) -> None:
        """Outbox ack listener: the last pending key acked makes a clear due."""
        if device != self.config.name:
            return
        if self._acked_meanwhile is not None:
            self._acked_meanwhile |= keys
        if not self._pending:
            return
        self._pending -= keys
        if not self._pending:
            self._clear_due.set()

    def _record(
        self, serial: str, record: AttendanceRecord | RealtimeAttendance, judge: DeviceClock
    ) -> DeviceRecord:
        draft = punch_record(device=self.config.name, serial=serial, zone=self._zone, record=record)
        issue = judge.judge(draft.occurred_at, now=utcnow())
        if issue is None:
            return draft
        log.info("%s: device time %s is suspect (%s)", self.config.name, draft.device_time, issue)
        return punch_record(
            device=self.config.name, serial=serial, zone=self._zone, record=record, clock_suspect=True
        )

    # -- users and clock (also used by cloud commands) ----------------------------------------

    @property
    def online(self) -> bool:
        """Whether a session is up (cloud commands run only through it)."""
        return self._client is not None

    async def _erase_tombstoned(self, client: ZkClient) -> None:
        if not self._tombstones:
            return
        for pin in await users.delete_tombstoned(client, self._tombstones):
            log.info("%s: erased PIN %s reappeared; deleted it again", self.config.name, pin)

    async def _set_clock(self, client: ZkClient) -> bool:
        """Set the terminal's clock from the agent's; True when it reads back close."""
        await client.set_time(device_wall_time(self._zone))
        return reads_close(await client.get_time(), device_wall_time(self._zone))

    async def sync_clock(self) -> bool:
        """Set the terminal's clock now (cloud ``sync_time``); True when verified by reading back."""
        return await self._set_clock(self._live_client())

    async def upsert_user(self, *, pin: str, name: str, card: int, privilege: int) -> bool:
        """Create or update a user (cloud ``user_upsert``); True when verified by reading back."""
        return await users.upsert_user(
            self._live_client(), pin=pin, name=name, card=card, privilege=privilege,
            encoding=self.config.encoding,
        )  # fmt: skip

    async def remove_user(self, pin: str) -> bool:
        """Delete a user (cloud ``user_delete``); True when verified by reading back."""
        return await users.delete_user(self._live_client(), pin)

    async def user_pins(self) -> frozenset[str]:
        """Every user's PIN on the terminal (cloud ``roster_check``); DeviceError when offline."""
        return frozenset(user.user_id for user in await self._live_client().users())

    def _live_client(self) -> ZkClient:
        if self._client is None:
            raise DeviceError("terminal offline")
        return self._client


async def _next_live(client: ZkClient, wake: asyncio.Event, deadline: float) -> RealtimeAttendance | None:
    """The next live event; None once ``deadline`` (loop time) passes or ``wake`` is set."""
    if wake.is_set():
        return None
    event = asyncio.ensure_future(client.next_event())
    woken = asyncio.ensure_future(wake.wait())
    try:
        timeout = max(0.0, deadline - asyncio.get_running_loop().time())
        await asyncio.wait({event, woken}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        event.cancel()
        woken.cancel()
        await asyncio.gather(event, woken, return_exceptions=True)
    return event.result() if event.done() and not event.cancelled() else None


def _keys(records: Iterable[DeviceRecord]) -> set[str]:
    return {r.dedup_key for r in records if r.dedup_key is not None}
