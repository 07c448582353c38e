"""Strict field readers for JSON objects: each names the field at fault in its error."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping
from typing import Any, Final

from firmware_protocols.sync.errors import SyncProtocolError

JsonObject = Mapping[str, Any]

# Every integer of the contract reaches a signed 64-bit column (BigInteger) or a smaller register.
INT64_MIN: Final = -(1 << 63)
INT64_MAX: Final = (1 << 63) - 1
# A UTC time is accepted only a day clear of the calendar's ends, so converting it to any local
# zone (offsets stay under 24 h) can never overflow, on this side or the receiver's.
EARLIEST: Final = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST: Final = dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)


def require_object(value: object, where: str) -> JsonObject:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SyncProtocolError(f"{where}: expected a JSON object")
    return value


def reject_unknown(obj: JsonObject, allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SyncProtocolError(f"{where}: unknown field(s) {', '.join(unknown)}")


def field(obj: JsonObject, name: str, where: str) -> object:
    if name not in obj:
        raise SyncProtocolError(f"{where}.{name}: missing")
    return obj[name]


def string(obj: JsonObject, name: str, where: str, *, max_len: int = 256) -> str:
    value = field(obj, name, where)
    if not isinstance(value, str) or len(value) > max_len:
        raise SyncProtocolError(f"{where}.{name}: expected a string of at most {max_len} chars")
    return value


def optional_string(obj: JsonObject, name: str, where: str, *, max_len: int = 256) -> str | None:
    if obj.get(name) is None:
        return None
    return string(obj, name, where, max_len=max_len)


def integer(obj: JsonObject, name: str, where: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """An integer in ``[minimum, maximum]``; the default range is what a BigInteger column holds."""
    value = field(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise SyncProtocolError(f"{where}.{name}: expected an integer in [{minimum}, {maximum}]")
    return value


def number(obj: JsonObject, name: str, where: str) -> float:
    """A finite number (integers are converted; NaN, infinities and overflowing ints are errors)."""
    value = field(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SyncProtocolError(f"{where}.{name}: expected a number")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise SyncProtocolError(f"{where}.{name}: expected a finite number")
    return result


def optional_number(obj: JsonObject, name: str, where: str) -> float | None:
    return None if obj.get(name) is None else number(obj, name, where)


def array(obj: JsonObject, name: str, where: str, *, max_len: int = 10_000) -> list[object]:
    value = field(obj, name, where)
    if not isinstance(value, list) or len(value) > max_len:
        raise SyncProtocolError(f"{where}.{name}: expected an array of at most {max_len} items")
    return value


def timestamp(obj: JsonObject, name: str, where: str) -> dt.datetime:
    """An ISO-8601 timestamp with an offset, returned in UTC, within ``[EARLIEST, LATEST]``."""
    text = string(obj, name, where, max_len=40)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SyncProtocolError(f"{where}.{name}: {text!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise SyncProtocolError(f"{where}.{name}: {text!r} has no UTC offset")
    try:
        utc = parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None  # 9999-12-31T23:59-14:00 and 0001-01-01T00:00+14:00 have no UTC time
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise SyncProtocolError(f"{where}.{name}: {text!r} is out of the representable range in UTC")
    return utc


def format_timestamp(value: dt.datetime) -> str:
    """UTC, millisecond precision kept to the microsecond, with a ``Z`` suffix."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def uuid7(obj: JsonObject, name: str, where: str) -> str:
    text = string(obj, name, where, max_len=36)
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise SyncProtocolError(f"{where}.{name}: {text!r} is not a UUID") from None
    if parsed.version != 7 or str(parsed) != text:
        raise SyncProtocolError(f"{where}.{name}: {text!r} is not a canonical UUIDv7")
    return text


def version(obj: JsonObject, where: str, supported: int) -> int:
    got = integer(obj, "v", where, minimum=1)
    if got != supported:
        raise SyncProtocolError(f"{where}.v: version {got} is not supported (this side speaks {supported})")
    return got
