"""Split an event batch into decodable events and rejected ones, reusing the contract's decoder.

Rule: the whole batch is decoded with ``sync.decode_batch``. If that fails, the payload is parsed
leniently (plain ``json``: NaN, huge numbers and lone surrogates pass) and the envelope alone is
checked (the same decoder, with the events left out); a bad envelope, or a payload past the
contract's size, rejects the whole payload (there is nothing to ack, and a 10 MB payload is not
worth parsing). Otherwise every event is decoded on its own with ``sync.decode_event``, which is
exactly as strict as the batch decoder, so one bad event is quarantined without losing the others.
A rejected event whose ``id`` is a canonical UUIDv7 can still be acked once it is durably
quarantined. Rejected events are re-encoded as ASCII JSON, which can carry any value parsed
leniently (a lone surrogate becomes its escape), so keeping a reject can never fail.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any, Final

from firmware_protocols import sync

_LONGEST_INT_LITERAL: Final = 40
_OUT_OF_RANGE: Final = 1 << 64


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RejectedEvent:
    event_id: str | None
    raw: bytes
    error: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SplitBatch:
    batch_id: str
    events: tuple[sync.Event, ...]
    rejected: tuple[RejectedEvent, ...]


def split_batch(payload: bytes) -> SplitBatch:
    """The batch's good events and rejects; raises ``SyncProtocolError`` when the envelope itself is bad."""
    try:
        batch = sync.decode_batch(payload)
    except sync.SyncProtocolError as whole:
        envelope, raw_events = _envelope(payload, whole)
        return _split_events(envelope, raw_events)
    return SplitBatch(batch_id=batch.batch_id, events=batch.events, rejected=())


def _envelope(payload: bytes, whole: sync.SyncProtocolError) -> tuple[dict[str, Any], list[Any]]:
    if len(payload) > sync.MAX_PAYLOAD_BYTES:
        raise whole
    try:
        obj = json.loads(payload.decode("utf-8"), parse_int=_lenient_int)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise whole from None
    if not isinstance(obj, dict) or not isinstance(obj.get("events"), list):
        raise whole
    raw_events: list[Any] = obj["events"]
    envelope = {k: v for k, v in obj.items() if k != "events"}
    sync.decode_batch(_dump({**envelope, "events": []}))  # raises when the envelope is bad
    if len(raw_events) > sync.MAX_BATCH_EVENTS:
        raise whole
    return envelope, raw_events


def _split_events(envelope: dict[str, Any], raw_events: list[Any]) -> SplitBatch:
    events: list[sync.Event] = []
    rejected: list[RejectedEvent] = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(sync.decode_event(raw, f"batch.events[{index}]"))
        except sync.SyncProtocolError as exc:
            rejected.append(RejectedEvent(event_id=_event_id(raw), raw=_dump(raw), error=str(exc)))
    return SplitBatch(batch_id=str(envelope["batch_id"]), events=tuple(events), rejected=tuple(rejected))


def _event_id(raw: object) -> str | None:
    candidate = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(candidate, str):
        return None
    try:
        parsed = uuid.UUID(candidate)
    except ValueError:
        return None
    return candidate if parsed.version == 7 and str(parsed) == candidate else None


def _lenient_int(text: str) -> int:
    """An integer literal; one too long for any column stands as 2^64, which ``decode_event`` refuses.

    (Plain ``int`` would raise past 4,300 digits and lose the whole batch to one event.)
    """
    return int(text) if len(text) <= _LONGEST_INT_LITERAL else _OUT_OF_RANGE


def _dump(value: object) -> bytes:
    """ASCII JSON of a leniently parsed value: total (NaN stays NaN, a lone surrogate its escape)."""
    try:
        return json.dumps(value, separators=(",", ":")).encode("ascii")
    except (RecursionError, ValueError):
        return b'"(not re-encodable)"'  # the whole payload is beyond nesting limits; keep the error
