"""Device time on the wire: the packed u32 of logs and clocks, and the 6 raw bytes of realtime events.

Both are the terminal's local wall time with no timezone (naive datetimes here); the agent attaches
the configured zone. Packed formula (PROTOCOLS.md §2.2), yy = year - 2000::

    ((yy*12*31 + (month-1)*31 + day-1) * 86400) + (hour*60 + minute)*60 + second
"""

from __future__ import annotations

import datetime as dt

from firmware_protocols.zkteco.errors import ZkLocalError, ZkRemoteError

_MAX_PACKED_YEAR = 2000 + 0xFFFFFFFF // (12 * 31 * 86400)


def encode_time(when: dt.datetime) -> int:
    """Pack a naive local datetime (2000..2133) into the u32 time code."""
    if not 2000 <= when.year <= _MAX_PACKED_YEAR:
        raise ZkLocalError(f"year {when.year} cannot be packed")
    days = (when.year - 2000) * 12 * 31 + (when.month - 1) * 31 + when.day - 1
    code = days * 86400 + (when.hour * 60 + when.minute) * 60 + when.second
    if code > 0xFFFFFFFF:
        raise ZkLocalError(f"{when} is past the last packable time")
    return code


def decode_time(code: int) -> dt.datetime:
    """Unpack a u32 time code; raise ``ZkRemoteError`` for an impossible date (e.g. 31 February)."""
    rest, second = divmod(code, 60)
    rest, minute = divmod(rest, 60)
    rest, hour = divmod(rest, 24)
    rest, day = divmod(rest, 31)
    year, month = divmod(rest, 12)
    return _datetime(year + 2000, month + 1, day + 1, hour, minute, second)


def encode_time6(when: dt.datetime) -> bytes:
    """The 6 raw bytes ``YY MM DD hh mm ss`` of a realtime event."""
    if not 2000 <= when.year <= 2255:
        raise ZkLocalError(f"year {when.year} cannot be sent as one byte")
    return bytes((when.year - 2000, when.month, when.day, when.hour, when.minute, when.second))


def decode_time6(raw: bytes) -> dt.datetime:
    """Decode ``YY MM DD hh mm ss``."""
    if len(raw) != 6:
        raise ZkRemoteError(f"realtime time needs 6 bytes, got {len(raw)}")
    return _datetime(raw[0] + 2000, raw[1], raw[2], raw[3], raw[4], raw[5])


def _datetime(year: int, month: int, day: int, hour: int, minute: int, second: int) -> dt.datetime:
    try:
        return dt.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - device local time
    except ValueError as exc:
        raise ZkRemoteError(f"invalid device time: {exc}") from None
