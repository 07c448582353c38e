"""TCP and UDP byte streams over real loopback sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from edge_agent.transport import TransportError
from edge_agent.transport.tcp import open_tcp
from edge_agent.transport.udp import open_udp
from tests.support.network import free_port


@pytest.fixture
async def tcp_echo() -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    """An echo server; the list holds the server side of every connection (to close it from there)."""
    peers: list[asyncio.StreamWriter] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], peers
        for peer in peers:
            peer.close()


async def test_tcp_round_trip_and_double_close(tcp_echo: tuple[int, list[asyncio.StreamWriter]]) -> None:
    stream = await open_tcp("127.0.0.1", tcp_echo[0], timeout=5)
    await stream.write(b"hello 4370")
    received = b""
    while len(received) < 10:
        received += await stream.read(4)
    assert received == b"hello 4370"
    await stream.aclose()
    await stream.aclose()
    with pytest.raises(TransportError):
        await stream.write(b"x")


async def test_tcp_peer_close_is_a_transport_error(tcp_echo: tuple[int, list[asyncio.StreamWriter]]) -> None:
    stream = await open_tcp("127.0.0.1", tcp_echo[0], timeout=5)
    await stream.write(b"x")
    assert await stream.read() == b"x"
    tcp_echo[1][0].close()
    with pytest.raises(TransportError, match="closed"):
        await stream.read()
    await stream.aclose()


async def test_tcp_refused_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="cannot connect"):
        await open_tcp("127.0.0.1", free_port(), timeout=5)


class _UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.transport.sendto(data.upper(), addr)


async def test_udp_datagrams_keep_their_boundaries() -> None:
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(_UdpEcho, local_addr=("127.0.0.1", 0))
    try:
        stream = await open_udp("127.0.0.1", server.get_extra_info("sockname")[1], timeout=5)
        await stream.write(b"one")
        await stream.write(b"two")
        async with asyncio.timeout(5):
            assert [await stream.read(), await stream.read()] == [b"ONE", b"TWO"]
            await stream.write(b"abcdef")
            assert [await stream.read(4), await stream.read(4)] == [b"ABCD", b"EF"]
        await stream.aclose()
        await stream.aclose()
        with pytest.raises(TransportError):
            await stream.write(b"x")
    finally:
        server.close()


async def test_udp_port_unreachable_surfaces_on_read() -> None:
    stream = await open_udp("127.0.0.1", free_port(), timeout=5)
    await stream.write(b"anyone?")
    with pytest.raises(TransportError, match="udp receive failed"):
        async with asyncio.timeout(5):
            await stream.read()
    await stream.aclose()
