"""ZKTeco ADMS driver: the agent serves ``/iclock/*`` to terminals on the LAN (PROTOCOLS.md §3).

Rules:
- a punch upload is answered ``OK: n`` only after ``sink.accept`` returned (durable); if it raises,
  the answer is an error so the terminal keeps the records and resends them (never lose a punch);
  the sink's dedup on SN|PIN|time|status|verify makes the resend harmless;
- photos and templates are never requested (TransFlag, PRIVACY.md BIO-2) and, if sent anyway, dropped
  and counted in ``metrics`` (BIO-1); users reported in OPERLOG are counted, and one whose PIN is in
  ``tombstones`` is deleted again (DEL-2);
- a terminal is up while it polls; down after 3 × Delay of silence;
- each terminal's punch times are judged in upload order by its own ``DeviceClock``: an implausible
  one (a clock a day ahead, an RTC reset, a jump back) is kept, flagged ``clock_suspect``;
- each terminal is bound to one IP address (``addresses.AddressBook``); a request for its SN from
  another address is refused with 403, counted (``wrong_address``), logged and sent to the cloud as a
  ``device_alert`` event (at most one per SN, address and hour); bound addresses bypass the global
  connection cap, so a flood of strangers cannot lock a known terminal out;
- the listener is bounded (``HttpLimits`` from the entry, lowered to fit RLIMIT_NOFILE) and ``run``
  can be started again after a failure (the agent's supervisor restarts it).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Container, Mapping
from pathlib import Path
from typing import Final

from edge_agent.clock import DeviceClock
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zk_push.addresses import AddressBook
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zk_push.punches import (
    address_alert_record,
    fits_contract,
    punch_record,
    result_record,
)
from edge_agent.drivers.zk_push.terminals import TerminalState, command_ids
from edge_agent.http import HttpServer, Request, Response
from edge_agent.records import DeviceRecord, EventSink
from firmware_protocols import zk_push

log = logging.getLogger(__name__)

SILENCE_FACTOR: Final = 3
TEXT: Final = "text/plain"
ALERT_INTERVAL_S: Final = 3600.0  # one wrong-address alert per (SN, address) per hour
MAX_ALERT_KEYS: Final = 1024  # the memory of recent alerts is bounded (forgotten all at once when full)


class UnknownTerminal(LookupError):
    """A command was queued for a serial number this driver does not serve."""


class ZkPushDriver:
    def __init__(
        self,
        config: ZkPushConfig,
        sink: EventSink,
        health: DeviceHealth,
        *,
        tombstones: Container[str] = frozenset(),
        state_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.metrics: collections.Counter[str] = collections.Counter()
        self.server: HttpServer | None = None
        book_path = None if state_dir is None else state_dir / f"zk_push-{config.name}.addresses.json"
        self.addresses = AddressBook(config.addresses, book_path)
        self._alerted: dict[tuple[str, str], float] = {}
        self._sink = sink
        self._health = health
        self._tombstones = tombstones
        self._zone = zoneinfo.ZoneInfo(config.timezone)
        self._ids = command_ids()
        self._terminals = {
            sn: TerminalState(sn=sn, device=config.device_name(sn)) for sn in config.allowed_serials
        }
        self._clocks = {sn: DeviceClock() for sn in config.allowed_serials}
        self._bound: asyncio.Future[int] | None = None
        for terminal in self._terminals.values():
            health.register(terminal.device)

    async def run(self) -> None:
        """Serve terminals until cancelled (may be called again after it failed)."""
        limits = self.config.http_limits().within_descriptors()
        server = HttpServer(
            self._handle,
            host=self.config.listen_host,
            port=self.config.listen_port,
            limits=limits,
            reserved=lambda address: address in self.addresses.bound(),
        )
        if self.server is not None:  # a restart: keep counting where the last server stopped
            server.counters.update(self.server.counters)
        self.server = server
        async with server:
            log.info(
                "zk_push %s listening on %s:%d (%d connections, %d per address)",
                self.config.name, self.config.listen_host, server.port,
                limits.max_connections, limits.max_connections_per_address,
            )  # fmt: skip
            bound = self._bound_port()
            if bound.done():
                self._bound = None
                bound = self._bound_port()
            bound.set_result(server.port)
            await self._watch_silence()

    def lan_counters(self) -> Mapping[str, int]:
        """The listener's counters and gauges, plus requests refused for a wrong address."""
        server = self.server
        counters = {} if server is None else {**server.counters, **server.gauges()}
        return counters | {"wrong_address": self.metrics["wrong_address"]}

    async def port(self) -> int:
        """The bound port, once ``run()`` listens."""
        return await self._bound_port()

    async def queue_command(
        self, sn: str, command: zk_push.DeviceCommand, *, cmd_id: str | None = None
    ) -> str:
        """Queue ``command`` for terminal ``sn``; its CMD_RESULT record carries the id returned."""
        terminal = self._terminals.get(sn)
        if terminal is None:
            raise UnknownTerminal(f"zk_push {self.config.name} does not serve SN {sn!r}")
        zk_push.command_text(command)  # refuse unencodable fields now, not at the next poll
        return self._enqueue(terminal, command, cmd_id)

    def _enqueue(self, terminal: TerminalState, command: zk_push.DeviceCommand, cmd_id: str | None) -> str:
        queued = zk_push.QueuedCommand(id=next(self._ids), command=command)
        terminal.callers[queued.id] = cmd_id or str(queued.id)
        terminal.queue.append(queued)
        return terminal.callers[queued.id]

    def terminal_options(self, terminal: TerminalState) -> zk_push.TerminalOptions:
        """The options reply for ``terminal``: no photos, no templates requested."""
        offset = dt.datetime.now(self._zone).utcoffset() or dt.timedelta()
        return zk_push.TerminalOptions(
            attlog_stamp=terminal.attlog_stamp,
            operlog_stamp=terminal.operlog_stamp,
            attphoto_stamp="None",
            error_delay=self.config.error_delay_s,
            delay=self.config.delay_s,
            trans_times=self.config.trans_times,
            trans_interval=self.config.trans_interval_min,
            timezone=f"{offset.total_seconds() / 3600:g}",
            realtime=self.config.realtime,
        )

    def _bound_port(self) -> asyncio.Future[int]:
        if self._bound is None:
            self._bound = asyncio.get_running_loop().create_future()
        return self._bound

    async def _watch_silence(self) -> None:
        limit = SILENCE_FACTOR * self.config.delay_s
        while True:
            await asyncio.sleep(min(1.0, self.config.delay_s / 2))
            now = time.monotonic()
            for terminal in self._terminals.values():
                silent = terminal.silent_for(now)
                if silent is not None and silent > limit:
                    self._health.down(terminal.device, f"no request for {silent:.0f} s")

    async def _handle(self, request: Request) -> Response:
        try:
            message = zk_push.parse_request(request.method, request.path, request.query, request.body)
        except zk_push.ZkPushProtocolError as error:
            self.metrics["bad_requests"] += 1
            log.debug("zk_push: bad request from %s: %s", request.client, error)
            return Response(status=404 if "path" in str(error) else 400, body=b"ERROR", content_type=TEXT)
        terminal = self._terminals.get(message.sn)
        if terminal is None:
            self.metrics["unknown_sn"] += 1
            log.debug("zk_push: request from unknown SN %r at %s", message.sn, request.client)
            return Response(status=401, body=b"ERROR", content_type=TEXT)
        expected = await self.addresses.check(terminal.sn, request.address)
        if expected is not None:
            return await self._refuse_address(terminal, request.address, expected)
        terminal.last_seen = time.monotonic()
        self._health.up(terminal.device)
        reply = await self._dispatch(terminal, message)
        return reply if isinstance(reply, Response) else self._text(terminal, reply)

    async def _refuse_address(self, terminal: TerminalState, address: str, expected: str) -> Response:
        self.metrics["wrong_address"] += 1
        now = time.monotonic()
        if now - self._alerted.get((terminal.sn, address), -ALERT_INTERVAL_S) >= ALERT_INTERVAL_S:
            if len(self._alerted) >= MAX_ALERT_KEYS:
                self._alerted.clear()
            self._alerted[(terminal.sn, address)] = now
            log.warning(
                "zk_push %s: request for SN %s from %s refused: the terminal is bound to %s",
                self.config.name, terminal.sn, address, expected,
            )  # fmt: skip
            alert = address_alert_record(
                terminal.device, terminal.sn, address, expected, dt.datetime.now(dt.UTC)
            )
            await self._accept(terminal, [alert])
        return Response(status=403, body=b"ERROR", content_type=TEXT)

    async def _dispatch(self, terminal: TerminalState, message: zk_push.TerminalRequest) -> str | Response:
        match message:
            case zk_push.OptionsRequest(language=language):
                terminal.language = language
                return zk_push.options_reply(terminal.sn, self.terminal_options(terminal))
            case zk_push.AttLogUpload():
                return await self._store_punches(terminal, message)
            case zk_push.OperLogUpload():
                return self._note_operlog(terminal, message)
            case zk_push.AttPhotoUpload(photo_bytes=size):
                self.metrics["photos_dropped"] += 1
                self.metrics["photo_bytes_dropped"] += size
                return zk_push.ok_reply()
            case zk_push.OtherUpload():
                self.metrics["other_uploads"] += 1
                return zk_push.ok_reply()
            case zk_push.CommandPoll():
                return zk_push.commands_reply(terminal.take_commands(self.config.max_commands_per_poll))
            case zk_push.CommandResultUpload():
                return await self._store_results(terminal, message)

    async def _store_punches(self, terminal: TerminalState, upload: zk_push.AttLogUpload) -> str | Response:
        now = dt.datetime.now(dt.UTC)
        usable = [r for r in upload.records if fits_contract(r)]
        self.metrics["malformed_punch_lines"] += upload.malformed + len(upload.records) - len(usable)
        clock = self._clocks[terminal.sn]
        records = [punch_record(terminal.device, terminal.sn, r, self._zone, now, clock) for r in usable]
        self.metrics["clock_suspect_punches"] += sum(bool(r.data["clock_suspect"]) for r in records)
        if not await self._accept(terminal, records):
            return Response(status=503, body=b"ERROR", content_type=TEXT)
        self.metrics["punch_lines"] += len(records)
        terminal.attlog_stamp = upload.stamp or terminal.attlog_stamp
        return zk_push.ok_reply(len(upload.records))

    async def _accept(self, terminal: TerminalState, records: list[DeviceRecord]) -> bool:
        if not records:
            return True
        try:
            result = await self._sink.accept(records)
        except Exception as error:  # any sink failure: the terminal must keep and resend
            self.metrics["sink_errors"] += 1
            self._health.count_error(terminal.device, f"sink refused: {error!r}")
            log.warning("zk_push %s: could not store %d records: %r", terminal.device, len(records), error)
            return False
        self.metrics["duplicates"] += result.duplicates
        return True

    def _note_operlog(self, terminal: TerminalState, upload: zk_push.OperLogUpload) -> str:
        self.metrics["users_reported"] += len(upload.users)
        self.metrics["templates_dropped"] += upload.templates_dropped
        self.metrics["pictures_dropped"] += upload.pictures_dropped
        for user in upload.users:
            terminal.enrolled_pins.add(user.pin)
            if user.pin in self._tombstones and not terminal.has_pending_delete(user.pin):
                log.info("zk_push %s: erased PIN %s reappeared; deleting it again", terminal.device, user.pin)
                self.metrics["tombstone_deletes"] += 1
                self._enqueue(
                    terminal, zk_push.DeleteUser(pin=user.pin), f"tombstone:{terminal.sn}:{user.pin}"
                )
        terminal.operlog_stamp = upload.stamp or terminal.operlog_stamp
        return zk_push.ok_reply()

    async def _store_results(
        self, terminal: TerminalState, upload: zk_push.CommandResultUpload
    ) -> str | Response:
        now = dt.datetime.now(dt.UTC)
        ids = [(r, terminal.sent.get(_int(r.id), r.id)) for r in upload.results]
        records = [result_record(terminal.device, terminal.sn, r, cmd_id, now) for r, cmd_id in ids]
        if not await self._accept(terminal, records):
            return Response(status=503, body=b"ERROR", content_type=TEXT)
        for result in upload.results:
            terminal.sent.pop(_int(result.id), None)
        self.metrics["command_results"] += len(records)
        return zk_push.ok_reply()

    def _text(self, terminal: TerminalState, text: str) -> Response:
        return Response(body=zk_push.encode_text(text, terminal.language), content_type=TEXT)


def _int(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1
