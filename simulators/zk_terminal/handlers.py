"""The terminal's answers: one handler per command, chosen from a table (PROTOCOLS.md §2.2).

A handler takes the session and the request and returns the reply packets, all carrying the
request's reply id. Transport concerns (TCP vs UDP chunking) enter only through ``session.transport``.
"""

from __future__ import annotations

import dataclasses
import logging
import struct
from collections.abc import Callable
from typing import Final, Literal

from firmware_protocols.zkteco import (
    INLINE_BLOB_MAX,
    UDP_MAX_DATA,
    Command,
    EventFlag,
    FreeSizes,
    Packet,
    RealtimeAttendance,
    ZkProtocolError,
    decode_chunk_request,
    decode_option,
    decode_read_buffer,
    decode_time,
    decode_user28,
    decode_user72,
    encode_attendance40,
    encode_blob,
    encode_buffer_info,
    encode_free_sizes,
    encode_option,
    encode_prepare_data,
    encode_realtime,
    encode_time,
    encode_user72,
    make_commkey,
)
from simulators.zk_terminal.model import TerminalModel

log = logging.getLogger(__name__)

FIRMWARE_VERSION: Final = "Ver 6.60 Apr 28 2017"
# Commands that only say "done": the simulator has no display, sensor or door to act on.
PLAIN_ACKS: Final = frozenset(
    {
        Command.ENABLEDEVICE,
        Command.DISABLEDEVICE,
        Command.STARTVERIFY,
        Command.CANCELCAPTURE,
        Command.REFRESHDATA,
        Command.REFRESHOPTION,
        Command.ENABLE_CLOCK,
        Command.EXIT,
    }
)
# Packets a client sends that a device never answers (pyzk acks realtime events with ACK_OK).
UNANSWERED: Final = frozenset({Command.ACK_OK})


@dataclasses.dataclass(kw_only=True)
class Session:
    """One client's session: TCP connection or UDP peer."""

    session_id: int
    transport: Literal["tcp", "udp"]
    authenticated: bool = False
    event_mask: int = 0
    buffer: bytes | None = None
    closing: bool = False


Handler = Callable[[Session, Packet], list[Packet]]


class CommandHandler:
    """Answers requests against a ``TerminalModel``; ``on_change`` runs after every state change."""

    def __init__(
        self, model: TerminalModel, *, comm_key: int, encoding: str, on_change: Callable[[], None]
    ) -> None:
        self.model = model
        self.comm_key = comm_key
        self.encoding = encoding
        self.on_change = on_change
        self.options: dict[str, str] = {
            "~SerialNumber": model.serial_number,
            "~Platform": "ZMM220_TFT",
            "~DeviceName": "MPM-SIM",
            "MAC": "00:17:61:00:43:70",
            "~ZKFPVersion": "10",
            "ZKFaceVersion": "7",
            "~ExtendFmt": "0",
            "~UserExtFmt": "0",
            "FaceFunOn": "0",
            "CompatOldFirmware": "0",
            "IPAddress": "127.0.0.1",
            "NetMask": "255.0.0.0",
            "GATEIPAddress": "0.0.0.0",
        }
        self._table: dict[int, Handler] = {
            Command.AUTH: self._auth,
            Command.GET_VERSION: self._version,
            Command.OPTIONS_RRQ: self._read_option,
            Command.OPTIONS_WRQ: self._write_option,
            Command.GET_FREE_SIZES: self._free_sizes,
            Command.GET_TIME: self._get_time,
            Command.SET_TIME: self._set_time,
            Command.DATA_WRRQ: self._prepare_buffer,
            Command.DATA_RDY: self._read_chunk,
            Command.FREE_DATA: self._free_buffer,
            Command.REG_EVENT: self._register_events,
            Command.USER_WRQ: self._set_user,
            Command.DELETE_USER: self._delete_user,
            Command.CLEAR_ATTLOG: self._clear_attlog,
        }

    def connect(self, session: Session, request: Packet) -> list[Packet]:
        """Answer CMD_CONNECT: ACK_OK, or ACK_UNAUTH when a comm key must follow."""
        session.authenticated = self.comm_key == 0
        code = Command.ACK_OK if session.authenticated else Command.ACK_UNAUTH
        return [_reply(session, request, code)]

    def respond(self, session: Session, request: Packet) -> list[Packet]:
        """The replies to one request of an open session."""
        if request.command in UNANSWERED:
            return []
        if not session.authenticated and request.command != Command.AUTH:
            return [_reply(session, request, Command.ACK_UNAUTH)]
        if request.command in PLAIN_ACKS:
            session.closing = request.command == Command.EXIT
            if request.command in (Command.ENABLEDEVICE, Command.DISABLEDEVICE):
                self.model.enabled = request.command == Command.ENABLEDEVICE
                self.on_change()
            return [_reply(session, request, Command.ACK_OK)]
        handler = self._table.get(request.command)
        if handler is None:
            return [_reply(session, request, Command.ACK_UNKNOWN)]
        try:
            return handler(session, request)
        except ZkProtocolError as exc:
            log.warning("bad %s payload: %s", request.command, exc)
            return [_reply(session, request, Command.ACK_ERROR)]

    def realtime_attlog(self, event: RealtimeAttendance) -> Packet:
        """The unsolicited EF_ATTLOG packet (session field = event code, reply 0)."""
        return Packet(command=Command.REG_EVENT, session_id=EventFlag.ATTLOG, data=encode_realtime(event))

    def _auth(self, session: Session, request: Packet) -> list[Packet]:
        ticks = request.data[2] if len(request.data) == 4 else 50
        session.authenticated = request.data == make_commkey(self.comm_key, session.session_id, ticks)
        code = Command.ACK_OK if session.authenticated else Command.ACK_UNAUTH
        return [_reply(session, request, code)]

    def _version(self, session: Session, request: Packet) -> list[Packet]:
        return [_reply(session, request, Command.ACK_OK, FIRMWARE_VERSION.encode() + b"\0")]

    def _read_option(self, session: Session, request: Packet) -> list[Packet]:
        name, _ = decode_option(request.data)
        if name not in self.options:
            return [_reply(session, request, Command.ACK_ERROR)]
        return [_reply(session, request, Command.ACK_OK, encode_option(name, self.options[name]))]

    def _write_option(self, session: Session, request: Packet) -> list[Packet]:
        name, value = decode_option(request.data)
        self.options[name] = value
        return [_reply(session, request, Command.ACK_OK)]

    def _free_sizes(self, session: Session, request: Packet) -> list[Packet]:
        users, records = len(self.model.users), len(self.model.log)
        sizes = FreeSizes(
            users=users, records=records, fingers_cap=3000, users_cap=3000, records_cap=100_000,
            fingers_av=3000, users_av=3000 - users, records_av=100_000 - records, faces_cap=1000,
        )  # fmt: skip
        return [_reply(session, request, Command.ACK_OK, encode_free_sizes(sizes))]

    def _get_time(self, session: Session, request: Packet) -> list[Packet]:
        code = struct.pack("<I", encode_time(self.model.now()))
        return [_reply(session, request, Command.ACK_OK, code)]

    def _set_time(self, session: Session, request: Packet) -> list[Packet]:
        if len(request.data) != 4:
            return [_reply(session, request, Command.ACK_ERROR)]
        self.model.set_clock(decode_time(int.from_bytes(request.data, "little")))
        return [_reply(session, request, Command.ACK_OK)]

    def _prepare_buffer(self, session: Session, request: Packet) -> list[Packet]:
        what = decode_read_buffer(request.data).command
        blob = self._blob(what)
        if len(blob) <= INLINE_BLOB_MAX:
            return [_reply(session, request, Command.DATA, blob)]
        session.buffer = blob
        return [_reply(session, request, Command.ACK_OK, encode_buffer_info(len(blob)))]

    def _blob(self, what: int) -> bytes:
        if what == Command.USERTEMP_RRQ:
            return encode_blob([encode_user72(u, self.encoding) for u in self.model.users])
        if what == Command.ATTLOG_RRQ:
            return encode_blob([encode_attendance40(r) for r in self.model.log])
        return encode_blob([])

    def _read_chunk(self, session: Session, request: Packet) -> list[Packet]:
        start, size = decode_chunk_request(request.data)
        if session.buffer is None:
            return [_reply(session, request, Command.ACK_ERROR)]
        chunk = session.buffer[start : start + size]
        step = UDP_MAX_DATA if session.transport == "udp" else max(len(chunk), 1)
        pieces = [chunk[i : i + step] for i in range(0, len(chunk), step)]
        return [
            _reply(session, request, Command.PREPARE_DATA, encode_prepare_data(len(chunk))),
            *(_reply(session, request, Command.DATA, piece) for piece in pieces),
            _reply(session, request, Command.ACK_OK),
        ]

    def _free_buffer(self, session: Session, request: Packet) -> list[Packet]:
        session.buffer = None
        return [_reply(session, request, Command.ACK_OK)]

    def _register_events(self, session: Session, request: Packet) -> list[Packet]:
        session.event_mask = int.from_bytes(request.data[:4], "little")
        return [_reply(session, request, Command.ACK_OK)]

    def _set_user(self, session: Session, request: Packet) -> list[Packet]:
        decode = decode_user72 if len(request.data) == 72 else decode_user28
        self.model.put_user(decode(request.data, self.encoding))
        self.on_change()
        return [_reply(session, request, Command.ACK_OK)]

    def _delete_user(self, session: Session, request: Packet) -> list[Packet]:
        if len(request.data) < 2:
            return [_reply(session, request, Command.ACK_ERROR)]
        if self.model.delete_user(int.from_bytes(request.data[:2], "little", signed=True)):
            self.on_change()
        return [_reply(session, request, Command.ACK_OK)]

    def _clear_attlog(self, session: Session, request: Packet) -> list[Packet]:
        self.model.log.clear()
        self.on_change()
        return [_reply(session, request, Command.ACK_OK)]


def _reply(session: Session, request: Packet, command: int, data: bytes = b"") -> Packet:
    return Packet(command=command, session_id=session.session_id, reply_id=request.reply_id, data=data)
