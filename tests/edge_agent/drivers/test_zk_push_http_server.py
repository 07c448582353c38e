"""edge_agent.http (the h11 server the zk_push driver runs on): keep-alive, limits, errors, timeouts."""

from __future__ import annotations

import asyncio
import http.client

from edge_agent.http import HttpLimits, HttpServer, Request, Response

LIMITS = HttpLimits(max_body_bytes=100, head_deadline_s=0.3, body_deadline_s=0.3)


async def echo(request: Request) -> Response:
    if request.path == "/fail":
        raise RuntimeError("handler bug")
    return Response(
        body=f"{request.method} {request.path} {request.query} {len(request.body)} {request.client}".encode()
    )


def _two_requests_on_one_connection(port: int) -> list[tuple[int, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    replies = []
    for body in (b"", b"x" * 10):
        connection.request("POST", "/a?b=c", body=body)
        response = connection.getresponse()
        replies.append((response.status, response.read().decode()))
    connection.close()
    return replies


def _status(port: int, method: str, path: str, body: bytes = b"") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body)
        return connection.getresponse().status
    finally:
        connection.close()


async def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async with HttpServer(echo, host="127.0.0.1", port=0, limits=LIMITS) as server:
        (s1, r1), (s2, r2) = await asyncio.to_thread(_two_requests_on_one_connection, server.port)
    assert (s1, s2) == (200, 200)
    assert r1.startswith("POST /a b=c 0 ")
    assert r2.startswith("POST /a b=c 10 ")
    assert r1.rsplit(" ", 1)[1] == r2.rsplit(" ", 1)[1]  # same client port: same connection


async def test_limits_and_errors() -> None:
    async with HttpServer(echo, host="127.0.0.1", port=0, limits=LIMITS) as server:
        assert await asyncio.to_thread(_status, server.port, "POST", "/big", b"x" * 101) == 413
        assert await asyncio.to_thread(_status, server.port, "GET", "/fail") == 500
        assert await asyncio.to_thread(_status, server.port, "POST", "/ok", b"x" * 100) == 200  # control


async def test_garbage_gets_400_and_a_silent_client_is_dropped() -> None:
    async with HttpServer(echo, host="127.0.0.1", port=0, limits=LIMITS) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\x16\x03\x01 not http\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 400")
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after head_deadline_s
        writer.close()
