"""UDP byte stream: a connected datagram endpoint; each ``write`` is one datagram.

``read`` returns one received datagram (or the rest of it, when ``max_bytes`` cut it). ICMP errors
(port unreachable) surface as ``TransportError`` on the next ``read``.
"""

from __future__ import annotations

import asyncio

from edge_agent.transport.base import TransportError

MAX_QUEUED_DATAGRAMS = 4096


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | Exception] = asyncio.Queue(MAX_QUEUED_DATAGRAMS)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if not self.queue.full():  # a reader that stopped reading loses datagrams, as UDP would
            self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        if not self.queue.full():
            self.queue.put_nowait(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.queue.full():
            self.queue.put_nowait(exc or TransportError("udp endpoint closed"))


class UdpStream:
    """A UDP endpoint connected to one peer, as a ``ByteStream``."""

    def __init__(self, transport: asyncio.DatagramTransport, receiver: _Receiver) -> None:
        self._transport = transport
        self._receiver = receiver
        self._pending = b""

    async def read(self, max_bytes: int = 65536) -> bytes:
        if not self._pending:
            if self._transport.is_closing() and self._receiver.queue.empty():
                raise TransportError("udp stream closed")
            item = await self._receiver.queue.get()
            if isinstance(item, Exception):
                raise TransportError(f"udp receive failed: {item}") from item
            self._pending = item
        data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
        return data

    async def write(self, data: bytes) -> None:
        if self._transport.is_closing():
            raise TransportError("udp stream closed")
        try:
            self._transport.sendto(data)
        except OSError as exc:
            raise TransportError(f"udp send failed: {exc}") from exc

    async def aclose(self) -> None:
        self._transport.close()


async def open_udp(
    host: str,
    port: int,
    *,
    timeout: float,  # noqa: ASYNC109 - bounds the open only; exchanges use asyncio.timeout
) -> UdpStream:
    """A datagram endpoint connected to ``host:port`` (no packet is sent)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            transport, receiver = await loop.create_datagram_endpoint(_Receiver, remote_addr=(host, port))
    except (OSError, TimeoutError) as exc:
        raise TransportError(f"cannot open udp to {host}:{port}: {str(exc) or 'timeout'}") from exc
    return UdpStream(transport, receiver)
