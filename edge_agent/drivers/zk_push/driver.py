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
  one (a clock a day ahead, an RTC reset, a jump back) is kept, flagged ``clock_suspect``.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Container
from typing import Final

from edge_agent.clock import DeviceClock
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zk_push.punches import fits_contract, punch_record, result_record
from edge_agent.drivers.zk_push.terminals import TerminalState, command_ids
from edge_agent.http import HttpLimits, HttpServer, Request, Response
from edge_agent.records import DeviceRecord, EventSink
from firmware_protocols import zk_push

log = logging.getLogger(__name__)

SILENCE_FACTOR: Final = 3
TEXT: Final = "text/plain"


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
    ) -> None:
        self.config = config
        self.metrics: collections.Counter[str] = collections.Counter()
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
        """Serve terminals until cancelled."""
        limits = HttpLimits(max_body_bytes=self.config.max_body_bytes)
        async with HttpServer(
            self._handle, host=self.config.listen_host, port=self.config.listen_port, limits=limits
        ) as server:
            log.info("zk_push %s listening on %s:%d", self.config.name, self.config.listen_host, server.port)
            self._bound_port().set_result(server.port)
            await self._watch_silence()

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
        terminal.last_seen = time.monotonic()
        self._health.up(terminal.device)
        reply = await self._dispatch(terminal, message)
        return reply if isinstance(reply, Response) else self._text(terminal, reply)

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
