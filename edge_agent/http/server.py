"""A minimal asyncio HTTP/1.1 server on h11 for LAN devices that push to us (ADMS, health endpoints).

Rule: the routing callback sees one complete request (body read in full, up to ``max_body_bytes``)
and returns one complete response; everything HTTP (framing, keep-alive, Date header, error replies
for malformed requests, 413, 503, 500 when the callback fails) is handled here, once.

Everything a client sends is untrusted and bounded (``limits.HttpLimits``): connections are admitted
by a ``ConnectionGate`` at accept (an excess socket is aborted before a byte is read), the head and the
body each have an absolute deadline, and body bytes are taken from a ``ByteBudget`` shared by every
connection and given back once the response is built. ``counters`` says what was refused and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Self

import h11

from edge_agent.http.admission import ByteBudget, ConnectionGate, HttpCounters, Slot
from edge_agent.http.limits import HttpLimits
from edge_agent.http.messages import REASONS, Handler, Request, Response, build_request

log = logging.getLogger(__name__)

READ_CHUNK = 16_384  # also the StreamReader limit: at most 2 x this is buffered per socket unread
CLOSE_WAIT_S = 5.0  # on close, how long connections get to finish a handler call already running
# asyncio accepts up to ``backlog`` sockets per wake-up and uses the same number for listen(). A refused
# socket is closed a few loop turns after its accept, so under a flood several batches are open at
# once: the batch must be shallow for them to fit in DESCRIPTOR_RESERVE. The kernel's queue stays deep
# so that connections wait there (not in SYN retries) while the batches drain.
ACCEPT_BATCH = 16
LISTEN_BACKLOG = 256


class _Reject(Exception):
    """Answer with ``status`` and close the connection; ``counter`` names the reason."""

    def __init__(self, status: int, reason: str, counter: str) -> None:
        super().__init__(reason)
        self.status, self.counter = status, counter


class _Deadline(Exception):
    """An absolute deadline passed; the connection is closed without a reply."""


class _HeldBytes:
    """One request's body bytes: its allowance first, then the shared budget (given back by ``release``)."""

    def __init__(self, budget: ByteBudget, allowance: int) -> None:
        self._budget, self._allowance = budget, allowance
        self.size = self.pooled = 0

    def take(self, size: int) -> None:
        from_pool = max(0, self.size + size - max(self._allowance, self.size))
        if from_pool and not self._budget.take(from_pool):
            raise _Reject(503, "server busy: too many request bodies in flight", "budget_exhausted")
        self.size += size
        self.pooled += from_pool

    def release(self) -> None:
        self._budget.give(self.pooled)
        self.size = self.pooled = 0


class HttpServer:
    """``async with HttpServer(handler, host=…, port=0) as server:`` then ``server.port``.

    ``reserved(address)`` marks source addresses that bypass the global connection cap (their
    per-address cap still holds): the addresses terminals are bound to.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        limits: HttpLimits | None = None,
        reserved: Callable[[str], bool] = lambda address: False,
    ) -> None:
        self._handler, self._host, self._port = handler, host, port
        self.limits = limits or HttpLimits()
        self.counters: HttpCounters = HttpCounters()
        self.gate = ConnectionGate(
            max_connections=self.limits.max_connections,
            max_per_address=self.limits.max_connections_per_address,
            counters=self.counters,
            reserved=reserved,
        )
        self.budget = ByteBudget(self.limits.max_buffered_bytes)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[None] | None] = {}

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def gauges(self) -> dict[str, int]:
        """Open connections now, their peak, and body bytes buffered now."""
        return {"open": self.gate.open, "peak": self.gate.peak, "buffered_bytes": self.budget.held}

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(
            self._serve_connection, self._host, self._port, limit=READ_CHUNK, backlog=ACCEPT_BATCH
        )
        for listening in self._server.sockets:
            with listening.dup() as same_socket:  # listen() again: the kernel queue, not the batch
                same_socket.listen(LISTEN_BACKLOG)

    async def serve_forever(self) -> None:
        """Serve until cancelled, then close every connection."""
        if self._server is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop listening, close open connections and wait for their tasks to end."""
        if self._server is None:
            return
        self._server.close()
        tasks = [task for task in self._connections.values() if task is not None]
        for writer in list(self._connections):
            writer.transport.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)
        await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = peer_address(peer)
        slot = self.gate.admit(address)
        if slot is None:
            writer.transport.abort()  # refused at accept: no read, no reply, the descriptor freed now
            return
        self._connections[writer] = asyncio.current_task()
        try:
            await self._serve_admitted(slot, reader, writer, peer)
        finally:
            self._connections.pop(writer, None)
            self.gate.release(slot)

    async def _serve_admitted(
        self, slot: Slot, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: object
    ) -> None:
        client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        try:
            await self._serve_requests(conn, reader, writer, client, slot.address)
        except _Reject as reject:
            self.counters[reject.counter] += 1
            await self._send_error(conn, writer, reject.status, str(reject))
        except h11.RemoteProtocolError as error:
            self.counters["bad_request"] += 1
            await self._send_error(conn, writer, error.error_status_hint, str(error))
        except _Deadline as deadline:
            self.counters[str(deadline)] += 1
            log.debug("http connection from %s closed: %s passed", client, deadline)
        except (ConnectionError, h11.LocalProtocolError) as error:
            log.debug("http connection from %s ended: %r", client, error)
        finally:
            writer.close()  # the reply, if any, was drained: closing frees the descriptor now

    async def _serve_requests(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client: str,
        address: str,
    ) -> None:
        while True:
            held = _HeldBytes(self.budget, self.limits.body_allowance_bytes)
            try:
                request = await self._read_request(conn, reader, held, client, address)
                if request is None:
                    return
                response = await self._respond(request)
            finally:
                held.release()
            await self._send(conn, writer, response)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _respond(self, request: Request) -> Response:
        try:
            return await self._handler(request)
        except Exception:
            log.exception("http handler failed on %s %s", request.method, request.path)
            return Response(status=500, body=b"ERROR")

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, held: _HeldBytes, client: str, address: str
    ) -> Request | None:
        try:
            async with asyncio.timeout(self.limits.head_deadline_s):
                head = await self._read_head(conn, reader)
        except TimeoutError:
            raise _Deadline("head_deadline") from None
        if head is None:
            return None
        try:
            async with asyncio.timeout(self.limits.body_deadline_s):
                body = await self._read_body(conn, reader, held)
        except TimeoutError:
            raise _Deadline("body_deadline") from None
        return None if body is None else build_request(head, body, client, address)

    async def _read_head(self, conn: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
        while True:
            event = await _next_event(conn, reader)
            if isinstance(event, h11.Request):
                return self._checked_head(event)
            if isinstance(event, h11.ConnectionClosed):
                return None

    async def _read_body(
        self, conn: h11.Connection, reader: asyncio.StreamReader, held: _HeldBytes
    ) -> bytes | None:
        body = bytearray()
        while True:
            event = await _next_event(conn, reader)
            if isinstance(event, h11.Data):
                if len(body) + len(event.data) > self.limits.max_body_bytes:
                    raise _Reject(413, "request body too large", "too_large")
                held.take(len(event.data))
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                return None

    def _checked_head(self, head: h11.Request) -> h11.Request:
        length = dict(head.headers).get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.limits.max_body_bytes:
            raise _Reject(413, "request body too large", "too_large")
        return head

    async def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, response: Response) -> None:
        headers = [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Server", "mpm-agent"),
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        reason = REASONS.get(response.status, b"")
        writer.write(
            conn.send(h11.Response(status_code=response.status, headers=headers, reason=reason)) or b""
        )
        writer.write(conn.send(h11.Data(data=response.body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        try:
            async with asyncio.timeout(self.limits.send_deadline_s):
                await writer.drain()
        except TimeoutError:
            raise _Deadline("send_deadline") from None

    async def _send_error(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, reason: str
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        log.debug("http error %d: %s", status, reason)
        with contextlib.suppress(ConnectionError, OSError, h11.LocalProtocolError, _Deadline):
            response = Response(status=status, body=reason.encode()[:200], headers=(("Connection", "close"),))
            await self._send(conn, writer, response)


def peer_address(peer: object) -> str:
    """The peer's IP address as text; an IPv4-mapped IPv6 address (a dual-stack listener) as IPv4."""
    host = str(peer[0]) if isinstance(peer, tuple) else str(peer)
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
    """The next h11 event, reading one chunk at a time while h11 needs data."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await reader.read(READ_CHUNK))
