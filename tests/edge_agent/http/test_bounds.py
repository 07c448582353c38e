"""edge_agent.http under abuse: connection caps at accept, absolute deadlines, a shared byte budget.

Every test runs a real server on loopback and real client sockets; other loopback addresses
(127.0.0.2, ...) stand for other hosts on the LAN. Each fault test has its control beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from edge_agent.http import HttpLimits, HttpServer, Request, Response, connection_cap
from edge_agent.http.server import peer_address
from tests.support.polling import async_wait_for

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
GET = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"


async def ok(request: Request) -> Response:
    return Response(body=f"{len(request.body)} {request.address}".encode())


@contextlib.asynccontextmanager
async def server(limits: HttpLimits, reserved: frozenset[str] = frozenset()) -> AsyncIterator[HttpServer]:
    async with HttpServer(ok, host="127.0.0.1", port=0, limits=limits, reserved=reserved.__contains__) as s:
        yield s


async def connect(port: int, source: str = "127.0.0.1") -> Stream:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def exchange(stream: Stream, request: bytes = GET) -> bytes:
    """Send ``request``; the response head and body (empty when the server closed on us)."""
    reader, writer = stream
    with contextlib.suppress(ConnectionError):
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        return head + await asyncio.wait_for(reader.readexactly(length), 5)
    return b""


async def closed_by_server(stream: Stream) -> bool:
    with contextlib.suppress(ConnectionError):
        return await asyncio.wait_for(stream[0].read(), 5) == b""
    return True


def close(*streams: Stream) -> None:
    for _reader, writer in streams:
        writer.close()


async def test_a_host_past_its_per_address_cap_is_refused_at_accept() -> None:
    async with server(HttpLimits(max_connections=10, max_connections_per_address=3)) as s:
        held = [await connect(s.port) for _ in range(3)]
        await until(lambda: _is(s.gate.open, 3), what="3 connections admitted")
        extra = await connect(s.port)
        assert await closed_by_server(extra)
        assert s.counters["refused_per_address"] == 1
        other_host = await connect(s.port, "127.0.0.2")
        assert (await exchange(other_host)).startswith(b"HTTP/1.1 200")  # control: another host is served
        replies = [await exchange(stream) for stream in held]
        assert all(reply.startswith(b"HTTP/1.1 200") for reply in replies)  # and the 3 held
        close(*held, extra, other_host)


async def test_strangers_past_the_global_cap_are_refused_but_a_reserved_address_is_served() -> None:
    limits = HttpLimits(max_connections=4, max_connections_per_address=2)
    async with server(limits, reserved=frozenset({"127.0.0.1"})) as s:
        flood = [await connect(s.port, f"127.0.0.{2 + i // 2}") for i in range(4)]
        await until(lambda: _is(s.gate.open, 4), what="the global cap filled")
        stranger = await connect(s.port, "127.0.0.9")
        assert await closed_by_server(stranger)
        assert s.counters["refused_global"] == 1
        terminal = await connect(s.port, "127.0.0.1")
        assert (await exchange(terminal)).endswith(b"0 127.0.0.1")
        assert s.gauges()["peak"] == 5
        close(*flood, stranger, terminal)


async def test_the_head_deadline_is_absolute_a_dribbling_client_cannot_refresh_it() -> None:
    limits = HttpLimits(head_deadline_s=0.5, body_deadline_s=5)
    async with server(limits) as s:
        reader, writer = await connect(s.port)
        writer.write(b"GET /x HTTP/1.1\r\n")
        for _ in range(200):  # one header byte every 50 ms: a per-read idle timeout would never fire
            if reader.at_eof() or writer.is_closing():
                break
            with contextlib.suppress(ConnectionError):
                writer.write(b"X")
                await writer.drain()
            await asyncio.sleep(0.05)
        assert await closed_by_server((reader, writer))
        assert s.counters["head_deadline"] == 1
        control = await connect(s.port)
        assert (await exchange(control)).startswith(b"HTTP/1.1 200")  # control: a prompt client is served
        close((reader, writer), control)


async def test_the_body_deadline_closes_a_half_sent_body_and_returns_its_bytes() -> None:
    limits = HttpLimits(head_deadline_s=5, body_deadline_s=0.5, max_body_bytes=10_000, body_allowance_bytes=0)
    async with server(limits) as s:
        stream = await connect(s.port)
        stream[1].write(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n" + b"x" * 5000)
        await until(lambda: _is(s.budget.held, 5000), what="half the body buffered")
        assert await closed_by_server(stream)
        assert s.counters["body_deadline"] == 1
        assert s.budget.held == 0
        close(stream)


async def test_bodies_past_their_allowance_share_one_pool_a_request_past_it_gets_503() -> None:
    limits = HttpLimits(
        max_body_bytes=800, body_allowance_bytes=100, max_buffered_bytes=700, body_deadline_s=5
    )
    async with server(limits) as s:
        first = await connect(s.port, "127.0.0.2")
        first[1].write(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 800\r\n\r\n" + b"x" * 700)
        await until(lambda: _is(s.budget.held, 600), what="the first body past its allowance pooled")
        second = await connect(s.port, "127.0.0.3")
        post = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 400\r\n\r\n" + b"y" * 400
        assert (await exchange(second, post)).startswith(b"HTTP/1.1 503")
        assert s.counters["budget_exhausted"] == 1
        assert s.budget.held == 600
        small = await connect(s.port, "127.0.0.4")
        punch = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + b"z" * 100
        assert (await exchange(small, punch)).endswith(b"100 127.0.0.4")  # within its allowance: served
        first[1].write(b"x" * 100)  # the first completes: its bytes come back
        assert (await exchange(first, b"")).endswith(b"800 127.0.0.2")
        assert s.budget.held == 0
        control = await connect(s.port)
        assert (await exchange(control, post)).startswith(b"HTTP/1.1 200")  # control: room again
        close(first, second, small, control)


async def test_a_declared_body_past_the_limit_is_refused_before_it_is_read() -> None:
    async with server(HttpLimits(max_body_bytes=1000)) as s:
        stream = await connect(s.port)
        head = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2097152\r\n\r\n"
        assert (await exchange(stream, head)).startswith(b"HTTP/1.1 413")
        assert s.counters["too_large"] == 1
        assert s.budget.held == 0
        close(stream)


@pytest.mark.parametrize(
    ("configured", "soft_limit", "expected"),
    [(128, 1024, 128), (1000, 1024, 448), (128, 256, 64), (128, 100, 1), (5000, 20000, 5000)],
)
def test_the_connection_cap_fits_the_descriptor_limit(
    configured: int, soft_limit: int, expected: int
) -> None:
    assert connection_cap(configured, soft_limit) == expected
    limits = HttpLimits(max_connections=configured).within_descriptors(soft_limit)
    assert limits.max_connections == expected
    assert limits.max_connections_per_address <= expected


def _is(value: int, expected: int) -> bool:
    return value == expected


async def until(probe: Callable[[], bool], what: str) -> None:
    async def check() -> bool:
        return probe()

    await async_wait_for(check, what=what)


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        (("192.168.1.20", 4321), "192.168.1.20"),
        (("::ffff:192.168.1.20", 4321, 0, 0), "192.168.1.20"),  # a dual-stack listener sees IPv4 so
        (("fe80::1%eth0", 4321, 0, 2), "fe80::1"),
        (("2001:db8::1", 4321, 0, 0), "2001:db8::1"),
        ("/run/socket", "/run/socket"),
    ],
)
def test_peer_addresses_are_normalised_so_bindings_compare_equal(peer: object, address: str) -> None:
    assert peer_address(peer) == address
