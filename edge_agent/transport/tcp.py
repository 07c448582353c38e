"""TCP byte stream on asyncio streams."""

from __future__ import annotations

import asyncio
import contextlib

from edge_agent.transport.base import TransportError


class TcpStream:
    """A connected TCP socket as a ``ByteStream``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int = 65536) -> bytes:
        try:
            data = await self._reader.read(max_bytes)
        except OSError as exc:
            raise TransportError(f"tcp read failed: {exc}") from exc
        if not data:
            raise TransportError("tcp peer closed the connection")
        return data

    async def write(self, data: bytes) -> None:
        if self._writer.is_closing():
            raise TransportError("tcp stream closed")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            raise TransportError(f"tcp write failed: {exc}") from exc

    async def aclose(self) -> None:
        if self._writer.is_closing():
            return
        self._writer.close()
        with contextlib.suppress(OSError):  # the peer may have reset the connection; closed is closed
            await self._writer.wait_closed()


async def open_tcp(
    host: str,
    port: int,
    *,
    timeout: float,  # noqa: ASYNC109 - bounds the open only; exchanges use asyncio.timeout
) -> TcpStream:
    """Connect to ``host:port`` within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        raise TransportError(f"cannot connect to {host}:{port}: {str(exc) or 'timeout'}") from exc
    return TcpStream(reader, writer)
