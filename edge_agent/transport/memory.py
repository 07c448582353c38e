"""An in-memory stream pair for tests: what one end writes, the other reads."""

from __future__ import annotations

import asyncio

from edge_agent.transport.base import ByteStream, TransportError


class MemoryStream:
    def __init__(self, inbox: asyncio.Queue[bytes | None], outbox: asyncio.Queue[bytes | None]) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._pending = b""
        self._closed = False

    async def read(self, max_bytes: int = 65536) -> bytes:
        if not self._pending:
            if self._closed:
                raise TransportError("stream closed")
            chunk = await self._inbox.get()
            if chunk is None:
                self._closed = True
                raise TransportError("peer closed the stream")
            self._pending = chunk
        data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
        return data

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise TransportError("stream closed")
        await self._outbox.put(bytes(data))

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._outbox.put(None)


def memory_pair() -> tuple[ByteStream, ByteStream]:
    """Two connected streams, as a null-modem cable would join them."""
    a_to_b: asyncio.Queue[bytes | None] = asyncio.Queue()
    b_to_a: asyncio.Queue[bytes | None] = asyncio.Queue()
    return MemoryStream(b_to_a, a_to_b), MemoryStream(a_to_b, b_to_a)
