"""Strict field readers for JSON objects: each names the field at fault in its error."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from firmware_protocols.sync.errors import SyncProtocolError

JsonObject = Mapping[str, Any]


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


def integer(obj: JsonObject, name: str, where: str, *, minimum: int = 0) -> int:
    value = field(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SyncProtocolError(f"{where}.{name}: expected an integer ≥ {minimum}")
    return value


def number(obj: JsonObject, name: str, where: str) -> float:
    value = field(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SyncProtocolError(f"{where}.{name}: expected a number")
    return float(value)


def optional_number(obj: JsonObject, name: str, where: str) -> float | None:
    return None if obj.get(name) is None else number(obj, name, where)


def array(obj: JsonObject, name: str, where: str, *, max_len: int = 10_000) -> list[object]:
    value = field(obj, name, where)
    if not isinstance(value, list) or len(value) > max_len:
        raise SyncProtocolError(f"{where}.{name}: expected an array of at most {max_len} items")
    return value


def timestamp(obj: JsonObject, name: str, where: str) -> dt.datetime:
    """An ISO-8601 timestamp with an offset, returned in UTC."""
    text = string(obj, name, where, max_len=40)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SyncProtocolError(f"{where}.{name}: {text!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise SyncProtocolError(f"{where}.{name}: {text!r} has no UTC offset")
    return parsed.astimezone(dt.UTC)


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
