"""Small command payloads: free sizes, the buffered read (1503/1500/1504), options, blobs.

Buffered read, as pyzk 0.9 drives it (PROTOCOLS.md §2.2)::

    → 1503 DATA_WRRQ  <b h i i> (1, command, fct, ext)
    ← 1501 DATA + blob                      (small: the blob inline)
    ← 2000 ACK_OK + 00 <u32 size> <u32 size> <u32 0>   (large: size announced)
    → 1504 DATA_RDY <i i> (start, size)     (per chunk)
    ← 1500 PREPARE_DATA <u32 size> <u32 0x10>, 1501 DATA + bytes..., 2000 ACK_OK
    → 1502 FREE_DATA

A blob is ``u32 total_size`` followed by fixed-size records.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Sequence
from typing import Final

from firmware_protocols.zkteco.errors import ZkLocalError, ZkRemoteError

FREE_SIZES_FIELDS: Final = 23
_FREE_SIZES: Final = struct.Struct(f"<{FREE_SIZES_FIELDS}i")
# Index of each count in the 23 × i32 of CMD_GET_FREE_SIZES.
FREE_SIZES_INDEX: Final = {
    "users": 4,
    "fingers": 6,
    "records": 8,
    "fingers_cap": 14,
    "users_cap": 15,
    "records_cap": 16,
    "fingers_av": 17,
    "users_av": 18,
    "records_av": 19,
    "faces": 20,
    "faces_cap": 22,
}
_READ_REQUEST: Final = struct.Struct("<bhii")
_CHUNK_REQUEST: Final = struct.Struct("<ii")
_PREPARE: Final = struct.Struct("<II")
_BUFFER_INFO: Final = struct.Struct("<xIII")
PREPARE_FLAG: Final = 0x10


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FreeSizes:
    """The counts and capacities a terminal reports; pyzk sizes records by ``blob / records``."""

    users: int = 0
    fingers: int = 0
    records: int = 0
    fingers_cap: int = 0
    users_cap: int = 0
    records_cap: int = 0
    fingers_av: int = 0
    users_av: int = 0
    records_av: int = 0
    faces: int = 0
    faces_cap: int = 0


def encode_free_sizes(sizes: FreeSizes) -> bytes:
    """92 bytes: 23 little-endian i32, unknown slots zero."""
    slots = [0] * FREE_SIZES_FIELDS
    for name, index in FREE_SIZES_INDEX.items():
        slots[index] = getattr(sizes, name)
    try:
        return _FREE_SIZES.pack(*slots)
    except struct.error as exc:
        raise ZkLocalError(f"free sizes: {exc}") from None


def decode_free_sizes(raw: bytes) -> FreeSizes:
    """Decode 92 bytes (80-byte answers of older firmware carry no face counts)."""
    if len(raw) not in (80, 92):
        raise ZkRemoteError(f"free sizes need 80 or 92 bytes, got {len(raw)}")
    slots = struct.unpack(f"<{len(raw) // 4}i", raw)
    values = {name: slots[i] for name, i in FREE_SIZES_INDEX.items() if i < len(slots)}
    return FreeSizes(**values)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ReadBufferRequest:
    """CMD_DATA_WRRQ: prepare ``command``'s data (e.g. ATTLOG_RRQ, or USERTEMP_RRQ with fct 5)."""

    command: int
    fct: int = 0
    ext: int = 0


def encode_read_buffer(request: ReadBufferRequest) -> bytes:
    try:
        return _READ_REQUEST.pack(1, request.command, request.fct, request.ext)
    except struct.error as exc:
        raise ZkLocalError(f"read buffer request: {exc}") from None


def decode_read_buffer(raw: bytes) -> ReadBufferRequest:
    _need(raw, _READ_REQUEST.size, "CMD_DATA_WRRQ")
    _, command, fct, ext = _READ_REQUEST.unpack(raw)
    return ReadBufferRequest(command=command, fct=fct, ext=ext)


def encode_buffer_info(size: int) -> bytes:
    """ACK_OK payload announcing a large prepared buffer of ``size`` bytes."""
    return _pack(_BUFFER_INFO, "buffer info", size, size, 0)


def decode_buffer_info(raw: bytes) -> int:
    """The prepared buffer size from an ACK_OK to CMD_DATA_WRRQ (pyzk reads bytes 1..5)."""
    if len(raw) < 5:
        raise ZkRemoteError(f"buffer info needs at least 5 bytes, got {len(raw)}")
    return int.from_bytes(raw[1:5], "little")


def encode_chunk_request(start: int, size: int) -> bytes:
    """CMD_DATA_RDY payload."""
    return _pack(_CHUNK_REQUEST, "chunk request", start, size)


def decode_chunk_request(raw: bytes) -> tuple[int, int]:
    """(start, size) of a CMD_DATA_RDY; both must be non-negative."""
    _need(raw, _CHUNK_REQUEST.size, "CMD_DATA_RDY")
    start, size = _CHUNK_REQUEST.unpack(raw)
    if start < 0 or size < 0:
        raise ZkRemoteError(f"negative chunk request {start}, {size}")
    return start, size


def encode_prepare_data(size: int) -> bytes:
    """The 8-byte PREPARE_DATA payload (pyzk requires exactly 8)."""
    return _pack(_PREPARE, "prepare data", size, PREPARE_FLAG)


def decode_prepare_data(raw: bytes) -> int:
    """The announced chunk size of a PREPARE_DATA."""
    if len(raw) < 4:
        raise ZkRemoteError(f"PREPARE_DATA needs at least 4 bytes, got {len(raw)}")
    return int.from_bytes(raw[:4], "little")


def encode_blob(records: Sequence[bytes]) -> bytes:
    """``u32 total_size`` + the records."""
    body = b"".join(records)
    return struct.pack("<I", len(body)) + body


def split_blob(blob: bytes, record_size: int) -> list[bytes]:
    """The records of a blob; the total must be a whole number of records of ``record_size``."""
    if len(blob) < 4:
        raise ZkRemoteError(f"blob of {len(blob)} bytes has no size")
    total = int.from_bytes(blob[:4], "little")
    if total != len(blob) - 4 or total % record_size:
        raise ZkRemoteError(f"blob says {total} bytes, holds {len(blob) - 4}, record size {record_size}")
    return [blob[i : i + record_size] for i in range(4, len(blob), record_size)]


def encode_option_query(name: str) -> bytes:
    """``name\\0`` for CMD_OPTIONS_RRQ."""
    return _option_text(name) + b"\0"


def encode_option(name: str, value: str) -> bytes:
    """``name=value\\0``: the reply to CMD_OPTIONS_RRQ."""
    return _option_text(name) + b"=" + _option_text(value, allow_equals=True) + b"\0"


def decode_option(raw: bytes) -> tuple[str, str]:
    """(name, value) of ``name=value[\\0]``; a bare ``name[\\0]`` gives an empty value."""
    text = raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    name, _, value = text.partition("=")
    return name, value


def _option_text(text: str, *, allow_equals: bool = False) -> bytes:
    if "\0" in text or (not allow_equals and "=" in text):
        raise ZkLocalError(f"option text {text!r} contains NUL or '='")
    return text.encode("utf-8")


def _pack(layout: struct.Struct, what: str, *values: int) -> bytes:
    try:
        return layout.pack(*values)
    except struct.error as exc:
        raise ZkLocalError(f"{what}: {exc}") from None


def _need(raw: bytes, size: int, what: str) -> None:
    if len(raw) != size:
        raise ZkRemoteError(f"{what} needs {size} bytes, got {len(raw)}")
