"""Conversions between driver records, outbox rows and contract events; the row-size estimate."""

from __future__ import annotations

import datetime as dt
import json
import json.encoder
from collections.abc import Callable, Iterable
from typing import Any, Final

from edge_agent.records import DeviceRecord
from firmware_protocols.sync import Event, EventKind

# Agent-originated events (command results, loss reports) use this device name; the inventory's
# name pattern cannot produce it, so it never collides with a real device.
AGENT_DEVICE: Final = "@agent"

# Keep-latest kinds: only these may be shed when the byte cap is reached. Attendance (punch) and
# command results are never dropped: accept() refuses them instead (back-pressure to the device).
SHEDDABLE_KINDS: Final = frozenset({EventKind.DEVICE_STATE.value, "display", "status"})

# Rough on-disk cost of a row beyond its JSON data: fixed columns, the id index entry, page slack.
ROW_OVERHEAD_BYTES: Final = 240

EVENT_COLUMNS: Final = "seq, id, kind, device, occurred_at, device_time, received_at, data"

EventRow = tuple[int, str, str, str, str, str, str, str]


def iso(value: dt.datetime) -> str:
    """UTC ISO-8601 text with a Z suffix (refuses naive datetimes); the contract's own form."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


# Built once: json.dumps with options builds a new encoder on every call. Keys keep the driver's
# order (nothing downstream compares data text; the cloud parses it).
_DATA_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _c_encoder() -> Callable[[object], str] | None:
    """The C scanner behind ``_DATA_ENCODER``, built once (``encode`` builds one per call: ≈ 40% of
    its cost per punch). Driver data is plain JSON values, so the circular check is left out."""
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the _json accelerator
        return None
    strings = json.encoder.encode_basestring  # the C one when there is a C scanner (ensure_ascii=False)
    scan = make(None, _DATA_ENCODER.default, strings, None, ":", ",", False, False, True)
    return lambda value: "".join(scan(value, 0))


_ENCODE: Final = _c_encoder() or _DATA_ENCODER.encode


def encode_data(record: DeviceRecord) -> str:
    """The record's data as compact JSON text (the ``data`` column, spliced into batches as is)."""
    data = record.data
    return _ENCODE(data if type(data) is dict else dict(data))


def estimated_bytes(data_json: str) -> int:
    size = len(data_json) if data_json.isascii() else len(data_json.encode())  # UTF-8 bytes
    return size + ROW_OVERHEAD_BYTES


def to_row(
    record: DeviceRecord, *, seq: int, event_id: str, received_at: dt.datetime | str, data: str
) -> EventRow:
    """The stored row of ``record``; ``received_at`` as a datetime or already as ``iso`` text."""
    kind = str(record.kind)  # EventKind is a StrEnum: str() is its value
    return (
        seq,
        event_id,
        kind,
        record.device,
        iso(record.occurred_at),
        record.device_time,
        received_at if isinstance(received_at, str) else iso(received_at),
        data,
    )


def to_event(row: Iterable[object]) -> Event:
    seq, event_id, kind, device, occurred_at, device_time, received_at, data = tuple(row)
    return Event(
        id=str(event_id),
        seq=int(str(seq)),
        kind=str(kind),
        device=str(device),
        occurred_at=parse_iso(str(occurred_at)),
        device_time=str(device_time),
        received_at=parse_iso(str(received_at)),
        data=json.loads(str(data)),
    )


def is_sheddable(record: DeviceRecord) -> bool:
    return record.kind in SHEDDABLE_KINDS  # a StrEnum member hashes and compares as its value
