"""The simulated terminal on the network: TCP and UDP on one port, sessions, live events, faults.

Every packet goes out in one write of the whole frame (pyzk reads each reply with a single recv).
Bad checksums are accepted with a warning and counted; garbage before a TCP frame is skipped and
counted; a client vanishing mid-transfer only ends its own session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from firmware_protocols import NEED_DATA
from firmware_protocols.zkteco import (
    AttendanceRecord,
    Command,
    EventFlag,
    Packet,
    RealtimeAttendance,
    TcpDecoder,
    UserRecord,
    ZkProtocolError,
    decode_datagram,
    encode_packet,
    encode_tcp,
)
from simulators.state_file import write_state
from simulators.zk_terminal.faults import FaultKind, FaultPlan, corrupt
from simulators.zk_terminal.handlers import CommandHandler, Session
from simulators.zk_terminal.model import DEMO_USERS, TerminalModel

log = logging.getLogger(__name__)

SendFrames = Callable[[Sequence[Packet]], Awaitable[None]]


class _Peer:
    """A session plus the way to reach its client."""

    def __init__(self, session: Session, send: SendFrames) -> None:
        self.session = session
        self.send = send


class ZkTerminal:
    """A ZKTeco 4370 terminal; ``async with ZkTerminal(port=...)`` serves until the block ends."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 4370,
        comm_key: int = 0,
        users: Sequence[UserRecord] = DEMO_USERS,
        records: int = 0,
        serial_number: str = "SIM0000000001",
        state_file: Path | None = None,
        encoding: str = "utf-8",
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.host, self.port = host, port
        self.model = TerminalModel(serial_number=serial_number, timezone=timezone, users=list(users))
        self.model.prefill(records)
        self.state_file = state_file
        self.handler = CommandHandler(self.model, comm_key=comm_key, encoding=encoding, on_change=self.save)
        self.faults = FaultPlan()
        self._keypad_unlocked = asyncio.Event()
        self._keypad_unlocked.set()
        self.bad_checksums = 0
        self.garbage_bytes = 0
        self._peers: dict[int, _Peer] = {}
        self._session_ids = itertools.count(random.randint(1, 0x7000))
        self._tcp_server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_tasks: set[asyncio.Task[None]] = set()
        self._connections: set[_TcpConnection] = set()

    async def __aenter__(self) -> ZkTerminal:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind TCP and UDP on ``host:port`` and write the first state file."""
        loop = asyncio.get_running_loop()
        self._tcp_server = await asyncio.start_server(self._serve_tcp, self.host, self.port)
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(self.host, self.port)
        )
        self.save()
        log.info("zk terminal %s on %s:%d (tcp+udp)", self.model.serial_number, self.host, self.port)

    async def stop(self) -> None:
        """Close both sockets and every client connection."""
        if self._tcp_server is not None:
            self._tcp_server.close()
            for connection in list(self._connections):
                connection.writer.transport.abort()  # ends its read; cancelling would log an error
            await asyncio.gather(*self._tcp_tasks, return_exceptions=True)
            await self._tcp_server.wait_closed()
            self._tcp_server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        self._peers.clear()

    def inject_fault(self, kind: FaultKind, count: int = 1, delay_s: float = 2.0) -> None:
        """Drop, delay, corrupt or disconnect the next ``count`` answers."""
        self.faults.arm(kind, count, delay_s)

    def registered_clients(self) -> int:
        """Sessions that asked for EF_ATTLOG events."""
        return sum(1 for p in self._peers.values() if p.session.event_mask & EventFlag.ATTLOG)

    async def punch(
        self, pin: str, when: dt.datetime | None = None, state: int = 0, verify: int = 1
    ) -> AttendanceRecord:
        """Record a punch in the log and send it live to every registered client.

        While a client has the terminal disabled the keypad is locked: the person waits until it
        is enabled again, as people at a real terminal do.
        """
        self._sync_keypad()
        await self._keypad_unlocked.wait()
        record = self.model.add_punch(pin, when or self.model.now(), state, verify)
        self.save()
        event = RealtimeAttendance(user_id=pin, verify=verify, state=state, time=record.time)
        packet = self.handler.realtime_attlog(event)
        for peer in list(self._peers.values()):
            if peer.session.event_mask & EventFlag.ATTLOG:
                try:
                    await peer.send([packet])
                except OSError as exc:  # that client is gone; its own task cleans up
                    log.info("live event to session %d lost: %s", peer.session.session_id, exc)
        return record

    def _sync_keypad(self) -> None:
        if self.model.enabled:
            self._keypad_unlocked.set()
        else:
            self._keypad_unlocked.clear()

    def save(self) -> None:
        """Rewrite the state file (atomically), if there is one; every state change comes here."""
        self._sync_keypad()
        if self.state_file is not None:
            write_state(self.state_file, self.model.snapshot())

    def answer(
        self, session: Session | None, packet: Packet, transport: Literal["tcp", "udp"]
    ) -> tuple[Session, list[Packet]]:
        """The session (new on CMD_CONNECT) and the replies to one received packet."""
        if not packet.checksum_ok:
            self.bad_checksums += 1
            log.warning("accepting packet %d with a bad checksum", packet.command)
        if packet.command == Command.CONNECT:
            session = Session(session_id=next(self._session_ids) & 0xFFFF or 1, transport=transport)
            return session, self.handler.connect(session, packet)
        if session is None:
            orphan = Session(session_id=packet.session_id, transport=transport)
            return orphan, [] if packet.command == Command.ACK_OK else self.handler.respond(orphan, packet)
        return session, self.handler.respond(session, packet)

    def register(self, session: Session, send: SendFrames) -> None:
        self._peers[session.session_id] = _Peer(session, send)

    def forget(self, session: Session | None) -> None:
        peer = self._peers.get(session.session_id) if session is not None else None
        if peer is not None and peer.session is session:
            del self._peers[peer.session.session_id]

    def peer(self, session_id: int) -> _Peer | None:
        return self._peers.get(session_id)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tcp_tasks.add(task)
        connection = _TcpConnection(self, reader, writer)
        self._connections.add(connection)
        try:
            await connection.serve()
        except (ConnectionError, ZkProtocolError, OSError) as exc:
            log.info("tcp client gone: %s", exc)
        finally:
            self._tcp_tasks.discard(task)
            self._connections.discard(connection)
            self.forget(connection.session)
            writer.close()


class _TcpConnection:
    def __init__(
        self, terminal: ZkTerminal, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.terminal, self.reader, self.writer = terminal, reader, writer
        self.session: Session | None = None
        self.decoder = TcpDecoder()

    async def serve(self) -> None:
        while data := await self.reader.read(65536):
            self.decoder.feed(data)
            while (packet := self.decoder.next_message()) is not NEED_DATA:
                if not await self._handle(packet):
                    return
            self.terminal.garbage_bytes += self.decoder.skipped_bytes
            self.decoder.skipped_bytes = 0

    async def _handle(self, packet: Packet) -> bool:
        """Answer one packet; False when the connection must end."""
        session, replies = self.terminal.answer(self.session, packet, "tcp")
        if session is not self.session:
            self.terminal.forget(self.session)
            self.session = session
            self.terminal.register(session, self.send)
        if replies and not await self._send_answer(replies):
            return False
        return not session.closing

    async def _send_answer(self, replies: Sequence[Packet]) -> bool:
        fault = self.terminal.faults.take()
        if fault == "disconnect":
            return False
        if fault == "drop":
            return True
        if fault == "delay":
            await asyncio.sleep(self.terminal.faults.delay_s)
        await self.send(replies, corrupted=fault == "corrupt")
        return True

    async def send(self, packets: Sequence[Packet], corrupted: bool = False) -> None:
        for packet in packets:
            frame = encode_tcp(packet)
            self.writer.write(corrupt(frame) if corrupted else frame)
            await self.writer.drain()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, terminal: ZkTerminal) -> None:
        self.terminal = terminal
        self.transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        try:
            packet = decode_datagram(data)
        except ZkProtocolError:
            self.terminal.garbage_bytes += len(data)
            return
        peer = None if packet.command == Command.CONNECT else self.terminal.peer(packet.session_id)
        session, replies = self.terminal.answer(peer.session if peer else None, packet, "udp")
        if peer is None and packet.command == Command.CONNECT:
            self.terminal.register(session, lambda packets: self._send(packets, addr))
        if session.closing:
            self.terminal.forget(session)
        if replies:
            task = asyncio.create_task(self._answer(session, replies, addr))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(
        self, session: Session, replies: Sequence[Packet], addr: tuple[str | object, int]
    ) -> None:
        fault = self.terminal.faults.take()
        if fault == "disconnect":
            self.terminal.forget(session)
            return
        if fault == "drop":
            return
        if fault == "delay":
            await asyncio.sleep(self.terminal.faults.delay_s)
        await self._send(replies, addr, corrupted=fault == "corrupt")

    async def _send(
        self, packets: Sequence[Packet], addr: tuple[str | object, int], corrupted: bool = False
    ) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for packet in packets:
            datagram = encode_packet(packet)
            self.transport.sendto(corrupt(datagram) if corrupted else datagram, addr)
