"""Streaming MIME multipart reader and writer (alertStream ``multipart/mixed``, push ``form-data``).

Theory of operation::

    [preamble / garbage] --BOUNDARY[padding]CRLF
    Header: value CRLF ... CRLF CRLF
    body (Content-Length bytes, or up to CRLF--BOUNDARY) CRLF
    --BOUNDARY ... ; a stream ends (if ever) with --BOUNDARY--

- The boundary comes from the ``Content-Type`` header (``boundary=`` parameter, quoted or not);
  Hikvision firmware uses ``boundary`` or ``MIME_boundary`` as its value, so never assume one.
- States: SEEK (look for the delimiter), HEADERS, BODY_LENGTH (``Content-Length`` known) and
  BODY_DELIMITED (scan for ``CRLF--BOUNDARY``). A part with a bad or missing length is delimited.
- Garbage rule: anything between parts that is not the delimiter is skipped; whitespace silently,
  other bytes counted and reported as one ``PartSkipped("garbage")`` when the next delimiter is found.
- Pictures (``image/*``) are never buffered: their bytes are counted and discarded as they arrive,
  reported as ``PictureDropped(size)``. A text part over ``max_part`` bytes is discarded the same way
  (``PartSkipped("oversize")``); a header block over ``MAX_HEADERS`` is skipped (``PartSkipped``).
- Buffer bound: after ``next_message()`` has returned NEED_DATA the buffer holds at most ``max_part``
  plus one header block; ``feed()`` refuses more data while over ``max_buffer`` (caller did not drain).
"""

from __future__ import annotations

import dataclasses
import enum
from collections import deque
from collections.abc import Iterable
from typing import Final

from firmware_protocols.errors import NEED_DATA, NeedData
from firmware_protocols.isapi.errors import IsapiLocalError, IsapiProtocolError
from firmware_protocols.isapi.messages import PartSkipped, PictureDropped

MAX_HEADERS: Final = 8 * 1024
MAX_PADDING: Final = 80  # bytes allowed after a delimiter before its line ends (RFC 2046 padding)
DEFAULT_MAX_PART: Final = 256 * 1024
DEFAULT_MAX_BUFFER: Final = 1024 * 1024
_WHITESPACE: Final = b" \t\r\n"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Part:
    """One complete non-picture part; header names are lower-case."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    @property
    def content_type(self) -> str:
        return media_type(self.header("content-type") or "text/plain")


MultipartMessage = Part | PictureDropped | PartSkipped


class _State(enum.Enum):
    SEEK = enum.auto()
    HEADERS = enum.auto()
    BODY_LENGTH = enum.auto()
    BODY_DELIMITED = enum.auto()


def media_type(content_type: str) -> str:
    """``Multipart/Mixed; boundary=x`` → ``multipart/mixed``."""
    return content_type.split(";", 1)[0].strip().lower()


def boundary_from_content_type(content_type: str) -> bytes:
    """The ``boundary`` parameter of a Content-Type header, quoted or not."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "boundary":
            value = value.strip().strip('"')
            if 0 < len(value) <= 70 and value.isascii() and value.isprintable():
                return value.encode("ascii")
            raise IsapiProtocolError(f"invalid multipart boundary {value!r}")
    raise IsapiProtocolError(f"no boundary in Content-Type {content_type!r}")


class MultipartDecoder:
    """Incremental multipart reader: ``feed(bytes)`` then ``next_message()`` until NEED_DATA."""

    def __init__(
        self, boundary: bytes, *, max_part: int = DEFAULT_MAX_PART, max_buffer: int = DEFAULT_MAX_BUFFER
    ) -> None:
        if not boundary or max_buffer < max_part + MAX_HEADERS:
            raise IsapiLocalError("boundary must be non-empty and max_buffer >= max_part + MAX_HEADERS")
        self._delimiter = b"--" + boundary
        self._marker = b"\r\n" + self._delimiter
        self._max_part = max_part
        self._max_buffer = max_buffer
        self._buf = bytearray()
        self._state = _State.SEEK
        self._garbage = 0
        self._headers: tuple[tuple[str, str], ...] = ()
        self._remaining = 0
        self._discard: str | None = None  # why the current body is being discarded, if it is
        self._discarded = 0
        self._ready: deque[MultipartMessage] = deque()

    def feed(self, data: bytes) -> None:
        """Append received bytes (any split is fine)."""
        if len(self._buf) > self._max_buffer:
            raise IsapiProtocolError("multipart buffer full: next_message() was not drained")
        self._buf += data

    def next_message(self) -> MultipartMessage | NeedData:
        """The next part (or drop/skip report), or NEED_DATA."""
        while not self._ready:
            if not self._step():
                return NEED_DATA
        return self._ready.popleft()

    def _step(self) -> bool:
        """Advance the state machine once; False when more bytes are needed."""
        steps = {
            _State.SEEK: self._seek,
            _State.HEADERS: self._read_headers,
            _State.BODY_LENGTH: self._read_length_body,
            _State.BODY_DELIMITED: self._read_delimited_body,
        }
        return steps[self._state]()

    def _seek(self) -> bool:
        at = self._buf.find(self._delimiter)
        if at < 0:
            keep = len(self._delimiter) - 1
            self._skip(max(0, len(self._buf) - keep))
            return False
        self._skip(at)
        line_end = self._buf.find(b"\n", len(self._delimiter))
        if line_end < 0:
            if len(self._buf) - len(self._delimiter) <= MAX_PADDING:
                return False
            self._skip(len(self._delimiter))  # a delimiter-looking prefix inside garbage
            return True
        closing = self._buf[len(self._delimiter) : len(self._delimiter) + 2] == b"--"
        self._report_garbage()
        del self._buf[: line_end + 1]
        self._state = _State.SEEK if closing else _State.HEADERS
        return True

    def _skip(self, count: int) -> None:
        self._garbage += len(bytes(self._buf[:count]).translate(None, _WHITESPACE))
        del self._buf[:count]

    def _report_garbage(self) -> None:
        if self._garbage:
            self._ready.append(PartSkipped(reason="garbage", size=self._garbage))
            self._garbage = 0

    def _read_headers(self) -> bool:
        end, skip = _header_block_end(self._buf)
        if end < 0:
            if len(self._buf) > MAX_HEADERS:
                self._ready.append(PartSkipped(reason="oversize headers", size=len(self._buf)))
                self._buf.clear()
                self._state = _State.SEEK
                return True
            return False
        self._headers = _parse_headers(bytes(self._buf[:end]))
        del self._buf[: end + skip]
        self._begin_body()
        return True

    def _begin_body(self) -> None:
        part = Part(headers=self._headers, body=b"")
        length = _content_length(part.header("content-length"))
        self._discarded = 0
        self._discard = "picture" if part.content_type.startswith("image/") else None
        if length is not None and length > self._max_part and self._discard is None:
            self._discard = "oversize"
        self._remaining = length or 0
        self._state = _State.BODY_DELIMITED if length is None else _State.BODY_LENGTH

    def _read_length_body(self) -> bool:
        if self._discard is not None:
            taken = min(self._remaining, len(self._buf))
            del self._buf[:taken]
            self._discarded += taken
            self._remaining -= taken
            if self._remaining:
                return False
            self._finish_discarded()
            return True
        if len(self._buf) < self._remaining:
            return False
        self._finish_part(bytes(self._buf[: self._remaining]), self._remaining)
        return True

    def _read_delimited_body(self) -> bool:
        at = self._buf.find(self._marker)
        if at >= 0:
            if self._discard is not None:
                self._discarded += at
                self._finish_discarded()
                del self._buf[: at + 2]
            else:
                self._finish_part(bytes(self._buf[:at]), at + 2)
            return True
        if self._discard is None and len(self._buf) > self._max_part + len(self._marker):
            self._discard = "oversize"
        if self._discard is not None:
            taken = max(0, len(self._buf) - (len(self._marker) - 1))
            del self._buf[:taken]
            self._discarded += taken
        return False

    def _finish_part(self, body: bytes, consumed: int) -> None:
        del self._buf[:consumed]
        self._ready.append(Part(headers=self._headers, body=body))
        self._state = _State.SEEK

    def _finish_discarded(self) -> None:
        content_type = Part(headers=self._headers, body=b"").content_type
        if self._discard == "picture":
            self._ready.append(PictureDropped(content_type=content_type, size=self._discarded))
        else:
            self._ready.append(PartSkipped(reason=f"oversize {content_type}", size=self._discarded))
        self._state = _State.SEEK


def _header_block_end(buf: bytearray) -> tuple[int, int]:
    """Index where the header block ends and the length of its terminator; (-1, 0) if incomplete."""
    if buf.startswith(b"\r\n"):
        return 0, 2
    if buf.startswith(b"\n"):
        return 0, 1
    candidates = [(buf.find(b"\r\n\r\n"), 4), (buf.find(b"\n\n"), 2)]
    found = [(at, size) for at, size in candidates if at >= 0]
    return min(found) if found else (-1, 0)


def _parse_headers(block: bytes) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for line in block.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers.append((name.strip().lower(), value.strip()))
    return tuple(headers)


def _content_length(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


def encode_part(
    boundary: bytes,
    content_type: str,
    body: bytes,
    *,
    extra_headers: Iterable[tuple[str, str]] = (),
    with_length: bool = True,
) -> bytes:
    """One part, delimiter first, body followed by CRLF (the next delimiter or the close follows)."""
    lines = [b"--" + boundary, f"Content-Type: {content_type}".encode("latin-1")]
    if with_length:
        lines.append(f"Content-Length: {len(body)}".encode("ascii"))
    lines += [f"{name}: {value}".encode() for name, value in extra_headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body + b"\r\n"


def encode_close(boundary: bytes) -> bytes:
    """The close delimiter that ends a finite multipart body."""
    return b"--" + boundary + b"--\r\n"
