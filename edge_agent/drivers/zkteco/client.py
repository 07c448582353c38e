"""An asyncio client for the ZKTeco 4370 protocol: codec + byte stream + one lock.

A background reader task turns the stream into packets: replies go to the request that waits for
them (matched by reply id; stale ones are dropped), realtime events are acknowledged at once and
queued for ``next_event``. Every request runs inside ``asyncio.timeout``. Transport, codec and timeout
failures become ``DeviceError`` in one place, ``_operation``; after one the client is unusable.
A reply with a bad checksum is refused: a real terminal always sends correct ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import struct
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Final, Literal

from edge_agent.drivers.zkteco.errors import DeviceError
from edge_agent.transport.base import ByteStream, TransportError
from edge_agent.transport.tcp import open_tcp
from edge_agent.transport.udp import open_udp
from firmware_protocols import NEED_DATA
from firmware_protocols.zkteco import (
    TCP_MAX_CHUNK,
    UDP_MAX_CHUNK,
    AttendanceRecord,
    Command,
    EventFlag,
    FreeSizes,
    Packet,
    ReadBufferRequest,
    RealtimeAttendance,
    TcpDecoder,
    UserRecord,
    ZkProtocolError,
    ZkRemoteError,
    decode_attendance,
    decode_buffer_info,
    decode_datagram,
    decode_free_sizes,
    decode_option,
    decode_prepare_data,
    decode_realtime,
    decode_time,
    decode_user28,
    decode_user72,
    encode_chunk_request,
    encode_option_query,
    encode_packet,
    encode_read_buffer,
    encode_tcp,
    encode_time,
    encode_user72,
    make_commkey,
    split_blob,
)

log = logging.getLogger(__name__)

Transport = Literal["tcp", "udp"]
USER_DECODERS: Final[dict[int, Callable[[bytes, str], UserRecord]]] = {72: decode_user72, 28: decode_user28}
ATTENDANCE_SIZES: Final = frozenset({40, 16, 8})
_COMMAND_NAMES: Final = {c.value: c.name for c in Command}


class ZkClient:
    """One session with one terminal; ``async with await ZkClient.open(...) as client``."""

    def __init__(
        self, stream: ByteStream, *, transport: Transport, timeout: float, encoding: str = "utf-8"
    ) -> None:
        self._stream = stream
        self._transport = transport
        self._timeout = timeout
        self._encoding = encoding
        self._lock = asyncio.Lock()
        self._session_id = 0
        self._reply_id = 0
        self._replies: asyncio.Queue[Packet | Exception] = asyncio.Queue()
        self._events: asyncio.Queue[RealtimeAttendance | Exception] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self.connected = False

    @classmethod
    async def open(
        cls, host: str, port: int, *, transport: Transport, request_timeout_s: float, encoding: str = "utf-8"
    ) -> ZkClient:
        """Open the byte stream (nothing sent yet); each later request is bounded by ``request_timeout_s``."""
        opener = open_tcp if transport == "tcp" else open_udp
        try:
            stream: ByteStream = await opener(host, port, timeout=request_timeout_s)
        except TransportError as exc:
            raise DeviceError(str(exc)) from exc
        return cls(stream, transport=transport, timeout=request_timeout_s, encoding=encoding)

    async def __aenter__(self) -> ZkClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self, comm_key: int = 0) -> None:
        """Open a session (CMD_CONNECT), authenticating with ``comm_key`` when the terminal asks."""
        self._reader = asyncio.create_task(self._read_forever(), name="zk-client-reader")
        async with self._operation("connect"):
            self._session_id, self._reply_id = 0, 0xFFFF  # the first request carries reply id 0
            reply = (await self._exchange(Command.CONNECT))[0]
            self._session_id = reply.session_id
            if reply.command == Command.ACK_UNAUTH:
                reply = (await self._exchange(Command.AUTH, make_commkey(comm_key, self._session_id)))[0]
            _expect(reply, Command.ACK_OK, "connect (wrong comm key?)")
            self.connected = True

    async def close(self) -> None:
        """End the session (CMD_EXIT, best effort) and close the stream."""
        if self.connected:
            with contextlib.suppress(DeviceError):
                await self._simple("exit", Command.EXIT)
            self.connected = False
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        await self._stream.aclose()

    async def option(self, name: str) -> str:
        """The value of option ``name`` (e.g. ``~SerialNumber``)."""
        async with self._operation(f"read option {name}"):
            reply = (await self._exchange(Command.OPTIONS_RRQ, encode_option_query(name)))[0]
            _expect(reply, Command.ACK_OK, f"option {name}")
            return decode_option(reply.data)[1]

    async def firmware_version(self) -> str:
        """The firmware's version string, e.g. ``Ver 6.60 Apr 28 2017``."""
        async with self._operation("get firmware version"):
            reply = (await self._exchange(Command.GET_VERSION))[0]
            _expect(reply, Command.ACK_OK, "get firmware version")
            return reply.data.rstrip(b"\0").decode("latin-1")

    async def serial_number(self) -> str:
        return await self.option("~SerialNumber")

    async def disable(self) -> None:
        await self._simple("disable", Command.DISABLEDEVICE)

    async def enable(self) -> None:
        await self._simple("enable", Command.ENABLEDEVICE)

    async def free_sizes(self) -> FreeSizes:
        async with self._operation("read sizes"):
            return await self._free_sizes()

    async def get_time(self) -> dt.datetime:
        """The terminal's clock (naive local time)."""
        async with self._operation("get time"):
            reply = (await self._exchange(Command.GET_TIME))[0]
            _expect(reply, Command.ACK_OK, "get time")
            return decode_time(int.from_bytes(reply.data[:4], "little"))

    async def set_time(self, when: dt.datetime) -> None:
        """Set the terminal's clock to ``when`` (naive local time)."""
        await self._simple("set time", Command.SET_TIME, struct.pack("<I", encode_time(when)))

    async def users(self) -> list[UserRecord]:
        """Every user on the terminal."""
        async with self._operation("read users"):
            count = (await self._free_sizes()).users
            if count == 0:
                return []
            blob = await self._read_buffer(ReadBufferRequest(command=Command.USERTEMP_RRQ, fct=5))
            decode = USER_DECODERS.get(_record_size(blob, count))
            if decode is None:
                raise ZkRemoteError(f"user blob of {len(blob)} bytes for {count} users")
            return [decode(raw, self._encoding) for raw in split_blob(blob, _record_size(blob, count))]

    async def attendance(self) -> list[AttendanceRecord]:
        """The whole attendance log (the terminal keeps it; nothing is cleared)."""
        async with self._operation("read attendance"):
            count = (await self._free_sizes()).records
            if count == 0:
                return []
            blob = await self._read_buffer(ReadBufferRequest(command=Command.ATTLOG_RRQ))
            size = _record_size(blob, count)
            if size not in ATTENDANCE_SIZES:
                raise ZkRemoteError(f"attendance blob of {len(blob)} bytes for {count} records")
            return [decode_attendance(raw) for raw in split_blob(blob, size)]

    async def set_user(self, user: UserRecord) -> None:
        """Create or replace a user (72-byte record)."""
        await self._simple("set user", Command.USER_WRQ, encode_user72(user, self._encoding))
        await self._simple("refresh", Command.REFRESHDATA)

    async def delete_user(self, uid: int) -> None:
        """Delete the user in slot ``uid``."""
        await self._simple("delete user", Command.DELETE_USER, struct.pack("<h", uid))
        await self._simple("refresh", Command.REFRESHDATA)

    async def clear_attendance(self) -> None:
        await self._simple("clear attendance", Command.CLEAR_ATTLOG)

    async def register_events(self, mask: int = EventFlag.ATTLOG) -> None:
        """Ask for realtime events (0 turns them off)."""
        await self._simple("register events", Command.REG_EVENT, struct.pack("<I", mask))

    async def next_event(self) -> RealtimeAttendance:
        """Wait for the next realtime EF_ATTLOG event (bound it with ``asyncio.timeout``)."""
        item = await self._events.get()
        if isinstance(item, Exception):
            self._events.put_nowait(item)  # stays dead for every later caller
            raise DeviceError(f"event stream: {item}") from item
        return item

    @contextlib.asynccontextmanager
    async def _operation(self, what: str) -> AsyncIterator[None]:
        """One lock holder at a time; the single place where failures become ``DeviceError``."""
        try:
            async with self._lock:
                yield
        except (TransportError, ZkProtocolError, TimeoutError, _Refused) as exc:
            self.connected = False  # the session is no longer trusted: no EXIT on close
            raise DeviceError(f"{what}: {_describe(exc)}") from exc

    async def _simple(self, what: str, command: int, data: bytes = b"") -> None:
        async with self._operation(what):
            _expect((await self._exchange(command, data))[0], Command.ACK_OK, what)

    async def _free_sizes(self) -> FreeSizes:
        reply = (await self._exchange(Command.GET_FREE_SIZES))[0]
        _expect(reply, Command.ACK_OK, "read sizes")
        return decode_free_sizes(reply.data)

    async def _read_buffer(self, request: ReadBufferRequest) -> bytes:
        """A buffered read: inline answer, or announced size read in chunks then freed."""
        reply = (await self._exchange(Command.DATA_WRRQ, encode_read_buffer(request)))[0]
        if reply.command == Command.DATA:
            return reply.data
        _expect(reply, Command.ACK_OK, "prepare buffer")
        size = decode_buffer_info(reply.data)
        step = TCP_MAX_CHUNK if self._transport == "tcp" else UDP_MAX_CHUNK
        chunks = [await self._read_chunk(start, min(step, size - start)) for start in range(0, size, step)]
        _expect((await self._exchange(Command.FREE_DATA))[0], Command.ACK_OK, "free buffer")
        return b"".join(chunks)

    async def _read_chunk(self, start: int, size: int) -> bytes:
        packets = await self._exchange(Command.DATA_RDY, encode_chunk_request(start, size), multi=True)
        _expect(packets[0], Command.PREPARE_DATA, "read chunk")
        data = b"".join(p.data for p in packets[1:-1] if p.command == Command.DATA)
        if len(data) != size or decode_prepare_data(packets[0].data) != size:
            raise ZkRemoteError(f"chunk at {start}: asked {size} bytes, got {len(data)}")
        return data

    async def _exchange(self, command: int, data: bytes = b"", *, multi: bool = False) -> list[Packet]:
        """Send one request; return its reply (``multi``: every packet up to the closing ACK_OK)."""
        self._reply_id = (self._reply_id + 1) & 0xFFFF
        packet = Packet(command=command, session_id=self._session_id, reply_id=self._reply_id, data=data)
        replies: list[Packet] = []
        async with asyncio.timeout(self._timeout):
            await self._stream.write(
                encode_tcp(packet) if self._transport == "tcp" else encode_packet(packet)
            )
            while not replies or (multi and replies[-1].command != Command.ACK_OK):
                replies.append(await self._next_reply())
        return replies

    async def _next_reply(self) -> Packet:
        while True:
            item = await self._replies.get()
            if isinstance(item, Exception):
                self._replies.put_nowait(item)
                raise item
            if item.reply_id == self._reply_id:
                return item  # anything else is a late answer to an abandoned request

    async def _read_forever(self) -> None:
        try:
            decoder = TcpDecoder()
            while True:
                data = await self._stream.read(65536)
                for packet in _packets(decoder, data, self._transport):
                    await self._dispatch(packet)
        except (TransportError, ZkProtocolError) as exc:
            self._replies.put_nowait(exc)
            self._events.put_nowait(exc)

    async def _dispatch(self, packet: Packet) -> None:
        if not packet.checksum_ok:
            raise ZkRemoteError(f"bad checksum on packet {packet.command}")
        if packet.command != Command.REG_EVENT:
            self._replies.put_nowait(packet)
            return
        ack = Packet(command=Command.ACK_OK, session_id=self._session_id, reply_id=0)
        await self._stream.write(encode_tcp(ack) if self._transport == "tcp" else encode_packet(ack))
        if packet.session_id != EventFlag.ATTLOG:
            return
        try:
            self._events.put_nowait(decode_realtime(packet.data))
        except ZkRemoteError as exc:  # an odd firmware's event: the next log pull still brings the punch
            log.warning("skipping an undecodable realtime event: %s", exc)


class _Refused(Exception):
    """The terminal answered with an error code."""


def _describe(exc: Exception) -> str:
    return str(exc) or ("timeout" if isinstance(exc, TimeoutError) else type(exc).__name__)


def _expect(reply: Packet, command: int, what: str) -> None:
    if reply.command != command:
        name = _COMMAND_NAMES.get(reply.command, str(reply.command))
        raise _Refused(f"{what}: terminal answered {name}")


def _record_size(blob: bytes, count: int) -> int:
    return (len(blob) - 4) // count if len(blob) >= 4 else 0


def _packets(decoder: TcpDecoder, data: bytes, transport: Transport) -> list[Packet]:
    if transport == "udp":
        return [decode_datagram(data)]
    decoder.feed(data)
    packets: list[Packet] = []
    while (packet := decoder.next_message()) is not NEED_DATA:
        assert isinstance(packet, Packet)
        packets.append(packet)
    return packets
