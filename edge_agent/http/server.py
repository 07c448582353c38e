"""A minimal asyncio HTTP/1.1 server on h11: keep-alive, body size limit, header/body timeouts.

Rule: the routing callback sees one complete request (body read in full, up to ``max_body_bytes``)
and returns one complete response; everything HTTP (framing, keep-alive, Date header, error replies
for malformed requests, 413, 500 when the callback fails) is handled here, once. Used by the ADMS
driver and meant for the Hikvision HTTP-listening push as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import h11

log = logging.getLogger(__name__)

READ_CHUNK = 65_536
REASONS = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    413: b"Payload Too Large",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Request:
    """One complete request: ``path`` without the query, ``query`` as sent (percent-encoded)."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    client: str

    def header(self, name: str, default: str = "") -> str:
        """The first header called ``name`` (case-insensitive)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), default)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HttpLimits:
    """Bounds on what one client can make the server hold or wait for."""

    max_body_bytes: int = 1_048_576
    max_header_bytes: int = 16_384
    header_timeout_s: float = 30.0  # idle keep-alive and request head
    body_timeout_s: float = 30.0  # each read while a body is arriving


Handler = Callable[[Request], Awaitable[Response]]


class _Reject(Exception):
    """Answer with ``status`` and close the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class HttpServer:
    """``async with HttpServer(handler, host=…, port=0) as server:`` then ``server.port``."""

    def __init__(self, handler: Handler, *, host: str, port: int, limits: HttpLimits | None = None) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._limits = limits or HttpLimits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(self._serve_connection, self._host, self._port)

    async def serve_forever(self) -> None:
        """Serve until cancelled, then close every connection."""
        if self._server is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        peer = writer.get_extra_info("peername")
        client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self._limits.max_header_bytes)
        try:
            await self._serve_requests(conn, reader, writer, client)
        except _Reject as reject:
            await self._send_error(conn, writer, reject.status, str(reject))
        except h11.RemoteProtocolError as error:
            await self._send_error(conn, writer, error.error_status_hint, str(error))
        except (TimeoutError, ConnectionError, h11.LocalProtocolError) as error:
            log.debug("http connection from %s ended: %r", client, error)
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve_requests(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str
    ) -> None:
        while True:
            request = await self._read_request(conn, reader, client)
            if request is None:
                return
            await self._send(conn, writer, await self._respond(request))
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
        self, conn: h11.Connection, reader: asyncio.StreamReader, client: str
    ) -> Request | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                timeout = self._limits.header_timeout_s if head is None else self._limits.body_timeout_s
                conn.receive_data(await asyncio.wait_for(reader.read(READ_CHUNK), timeout))
            elif isinstance(event, h11.Request):
                head = self._checked_head(event)
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self._limits.max_body_bytes:
                    raise _Reject(413, "request body too large")
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                return _request(head, bytes(body), client)
            elif isinstance(event, h11.ConnectionClosed):
                return None

    def _checked_head(self, head: h11.Request) -> h11.Request:
        length = dict(head.headers).get(b"content-length", b"0")
        if length.isdigit() and int(length) > self._limits.max_body_bytes:
            raise _Reject(413, "request body too large")
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
        await writer.drain()

    async def _send_error(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, reason: str
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        log.debug("http error %d: %s", status, reason)
        with contextlib.suppress(ConnectionError, OSError, h11.LocalProtocolError):
            response = Response(status=status, body=reason.encode()[:200], headers=(("Connection", "close"),))
            await self._send(conn, writer, response)


def _request(head: h11.Request, body: bytes, client: str) -> Request:
    target = head.target.decode("latin-1")
    path, _, query = target.partition("?")
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers)
    return Request(
        method=head.method.decode("latin-1"),
        path=path,
        query=query,
        headers=headers,
        body=body,
        client=client,
    )
