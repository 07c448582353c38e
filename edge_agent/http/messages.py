"""The requests a handler sees and the responses it returns (complete messages, no streaming)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Final

import h11

REASONS: Final = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    403: b"Forbidden",
    404: b"Not Found",
    413: b"Payload Too Large",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Request:
    """One complete request: ``path`` without the query, ``query`` as sent (percent-encoded).

    ``client`` is ``address:port``; ``address`` the peer's IP address alone.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    client: str
    address: str = ""

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


Handler = Callable[[Request], Awaitable[Response]]


def build_request(head: h11.Request, body: bytes, client: str, address: str) -> Request:
    """A ``Request`` from h11's head and the body read in full."""
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
        address=address,
    )
