"""The byte stream every driver talks through (after httpcore's network backends).

A stream is opened by its module's ``open_*`` coroutine and then offers ``read``, ``write`` and
``aclose``. ``read`` returns whatever bytes are available (at least one, at most ``max_bytes``);
it never promises a whole frame. Every failure surfaces as ``TransportError``; timeouts are the
caller's job (``asyncio.timeout`` around the exchange).
"""

from __future__ import annotations

from typing import Protocol


class TransportError(Exception):
    """The link failed: closed by the peer, unplugged, refused, or any OS-level error."""


class ByteStream(Protocol):
    async def read(self, max_bytes: int = 65536) -> bytes:
        """Return 1..max_bytes bytes; raise ``TransportError`` when the link is closed or failed."""
        ...

    async def write(self, data: bytes) -> None:
        """Write all of ``data`` (for UDP: one datagram)."""
        ...

    async def aclose(self) -> None:
        """Close the link; safe to call twice."""
        ...
