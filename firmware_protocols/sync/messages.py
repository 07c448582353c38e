"""The messages of the edge↔cloud contract, version 1, as frozen dataclasses.

Every message is JSON (UTF-8) on the wire. ``encode(message)`` gives the bytes; each ``decode_*``
function is total: it returns the message or raises ``SyncProtocolError`` naming the field at fault.
Decoders are strict: unknown fields, naive timestamps and a foreign version number are errors, so a
malformed message is quarantined instead of half-applied. Totality covers values, not only shape: a
value that parses but cannot be represented downstream (a time that overflows in UTC, an integer past
64 bits, NaN or Infinity, a lone surrogate in any string, a string past its bound) is an error too,
so nothing that decodes can later fail in a database column, an encoder or a sign.

Privacy (shared/PRIVACY.md ENC-4, DISP-1): events carry device PINs, times and codes only; display
content carries only rank, display name, department and points.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final, Literal

from firmware_protocols.sync import _fields as f
from firmware_protocols.sync import _json
from firmware_protocols.sync.errors import SyncProtocolError

VERSION: Final = 1
MAX_BATCH_EVENTS: Final = 1000
MAX_PAYLOAD_BYTES: Final = 4 * 1024 * 1024
MAX_SIGN_LINES: Final = 20  # free text lines of one sign (announcement, clock, latest events)
MAX_LINE_CHARS: Final = 64
MAX_STATUS_DEVICES: Final = 256
RANKING: Final = "ranking"  # the default sign kind: rows only, encoded without kind/lines
# Content for this sign name is shown on every sign of the agent that the same message does not
# address by name: the cloud sends it to an agent with no display configured, so a new site's signs
# show the organisation's ranking as soon as the agent enrols.
DEFAULT_SIGN: Final = "default"

JsonValue = Any


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """One durable fact from a site: a punch, a command result, a loss report, a device state.

    ``id`` is a UUIDv7 made by the agent and ``seq`` its per-agent sequence; together they are the
    event's identity. Times are kept apart and never merged: ``occurred_at`` (UTC, from the device
    clock normalised), ``device_time`` (the raw device value, as text) and ``received_at`` (agent clock).
    """

    id: str
    seq: int
    kind: str
    device: str
    occurred_at: dt.datetime
    device_time: str
    received_at: dt.datetime
    data: Mapping[str, JsonValue]

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "seq": self.seq,
            "kind": self.kind,
            "device": self.device,
            "occurred_at": f.format_timestamp(self.occurred_at),
            "device_time": self.device_time,
            "received_at": f.format_timestamp(self.received_at),
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, value: object, where: str) -> Event:
        obj = f.require_object(value, where)
        f.reject_unknown(obj, _EVENT_FIELDS, where)
        return cls(
            id=f.uuid7(obj, "id", where),
            seq=f.integer(obj, "seq", where, minimum=1),
            kind=f.string(obj, "kind", where, max_len=32),
            device=f.string(obj, "device", where, max_len=64),
            occurred_at=f.timestamp(obj, "occurred_at", where),
            device_time=f.string(obj, "device_time", where, max_len=64),
            received_at=f.timestamp(obj, "received_at", where),
            data=f.require_object(f.field(obj, "data", where), f"{where}.data"),
        )


_EVENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Event))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class EventBatch:
    """``mpm/v1/{agent}/up/events``: a batch of outbox rows, QoS 1."""

    batch_id: str
    events: tuple[Event, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Ack:
    """``mpm/v1/{agent}/down/ack``: these event ids are committed in the cloud database.

    An id is acked once it is durably in the cloud, accepted or quarantined; the agent may then
    delete the outbox row. ``batch_id`` echoes the batch for the agent's in-flight bookkeeping.
    """

    batch_id: str
    event_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RankRow:
    """One line of a ranking as a sign shows it: a projection, never phone, ID or reasons."""

    rank: int
    name: str
    points: int
    department: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SignContent:
    """What one sign (named as in the agent's device inventory) should show.

    Every display kind is projected by the cloud into a title plus ``rows`` (ranking-like kinds) or
    ``lines`` (free text: announcement, clock, latest events), so a sign renders any kind the same
    way. ``kind`` names the cloud's kind for logs; renderers decide on ``lines`` being non-empty.
    """

    sign: str
    title: str
    period: str
    rows: tuple[RankRow, ...]
    kind: str = RANKING
    lines: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DisplayContent:
    """``mpm/v1/{agent}/down/display``, retained: content for every sign of the agent.

    ``version`` grows with every change, so a receiver ignores a stale or repeated delivery.
    """

    version: int
    generated_at: dt.datetime
    signs: tuple[SignContent, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    """``mpm/v1/{agent}/down/cmd``: a command with an id (for dedup) and an expiry."""

    cmd_id: str
    expires_at: dt.datetime
    type: str
    args: Mapping[str, JsonValue]


AgentState = Literal["online", "offline"]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentStatus:
    """``mpm/v1/{agent}/status``, retained; the last will is ``AgentStatus(state="offline")``."""

    state: AgentState
    agent_version: str = ""
    at: dt.datetime | None = None
    backlog_rows: int = 0
    backlog_bytes: int = 0
    oldest_unacked_age_s: float | None = None
    dropped: int = 0
    outbox_full: bool = False
    devices: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Protocol faults each device survived since the agent started (garbage, bad checksums, timeouts);
    # omitted when empty, so a status without errors encodes as before the field existed.
    device_errors: Mapping[str, int] = dataclasses.field(default_factory=dict)


Message = EventBatch | Ack | DisplayContent | Command | AgentStatus


def encode(message: Message) -> bytes:
    """The JSON bytes of ``message`` (compact, UTF-8, non-ASCII kept as is)."""
    body = {"v": VERSION, **_to_json(message)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _to_json(message: Message) -> dict[str, JsonValue]:
    match message:
        case EventBatch():
            return {"batch_id": message.batch_id, "events": [e.to_json() for e in message.events]}
        case Ack():
            return {"batch_id": message.batch_id, "event_ids": list(message.event_ids)}
        case DisplayContent():
            return {
                "version": message.version,
                "generated_at": f.format_timestamp(message.generated_at),
                "signs": [_sign_to_json(s) for s in message.signs],
            }
        case Command():
            return {
                "cmd_id": message.cmd_id,
                "expires_at": f.format_timestamp(message.expires_at),
                "type": message.type,
                "args": dict(message.args),
            }
        case AgentStatus():
            return _status_to_json(message)


def _sign_to_json(sign: SignContent) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = {
        "sign": sign.sign,
        "title": sign.title,
        "period": sign.period,
        "rows": [dataclasses.asdict(r) for r in sign.rows],
    }
    # Defaults are omitted, so a ranking encodes exactly as before the fields existed.
    if sign.kind != RANKING:
        body["kind"] = sign.kind
    if sign.lines:
        body["lines"] = list(sign.lines)
    return body


def _status_to_json(status: AgentStatus) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = {"state": status.state}
    if status.state == "online":
        body |= {
            "agent_version": status.agent_version,
            "at": f.format_timestamp(status.at) if status.at else None,
            "backlog_rows": status.backlog_rows,
            "backlog_bytes": status.backlog_bytes,
            "oldest_unacked_age_s": status.oldest_unacked_age_s,
            "dropped": status.dropped,
            "outbox_full": status.outbox_full,
            "devices": dict(status.devices),
        }
        if status.device_errors:
            body["device_errors"] = dict(status.device_errors)
    return body


def _load(payload: bytes, where: str, allowed: frozenset[str]) -> f.JsonObject:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise SyncProtocolError(f"{where}: payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise SyncProtocolError(f"{where}: not UTF-8") from None
    obj = f.require_object(_json.loads(text, where), where)
    f.version(obj, where, VERSION)
    f.reject_unknown(obj, allowed | {"v"}, where)
    return obj


def decode_batch(payload: bytes) -> EventBatch:
    obj = _load(payload, "batch", frozenset({"batch_id", "events"}))
    raw_events = f.array(obj, "events", "batch", max_len=MAX_BATCH_EVENTS)
    events = tuple(Event.from_json(e, f"batch.events[{i}]") for i, e in enumerate(raw_events))
    return EventBatch(batch_id=f.string(obj, "batch_id", "batch", max_len=64), events=events)


def decode_event(value: object, where: str = "event") -> Event:
    """One event from an already-parsed JSON value (say, one item of a batch parsed leniently).

    The value is walked for what strict parsing would have refused (NaN, lone surrogates, integers
    past 64 bits), so this is exactly as strict as ``decode_batch``.
    """
    _json.check_value(value, where)
    return Event.from_json(value, where)


def decode_ack(payload: bytes) -> Ack:
    obj = _load(payload, "ack", frozenset({"batch_id", "event_ids"}))
    ids = f.array(obj, "event_ids", "ack", max_len=MAX_BATCH_EVENTS)
    holder = {str(i): v for i, v in enumerate(ids)}
    return Ack(
        batch_id=f.string(obj, "batch_id", "ack", max_len=64),
        event_ids=tuple(f.uuid7(holder, str(i), "ack.event_ids") for i in range(len(ids))),
    )


def decode_display(payload: bytes) -> DisplayContent:
    obj = _load(payload, "display", frozenset({"version", "generated_at", "signs"}))
    signs = f.array(obj, "signs", "display", max_len=64)
    return DisplayContent(
        version=f.integer(obj, "version", "display"),
        generated_at=f.timestamp(obj, "generated_at", "display"),
        signs=tuple(_sign_from_json(s, f"display.signs[{i}]") for i, s in enumerate(signs)),
    )


def _sign_from_json(value: object, where: str) -> SignContent:
    obj = f.require_object(value, where)
    f.reject_unknown(obj, frozenset({"sign", "title", "period", "rows", "kind", "lines"}), where)
    rows = f.array(obj, "rows", where, max_len=200)
    return SignContent(
        sign=f.string(obj, "sign", where, max_len=64),
        title=f.string(obj, "title", where),
        period=f.string(obj, "period", where, max_len=32),
        rows=tuple(_row_from_json(r, f"{where}.rows[{i}]") for i, r in enumerate(rows)),
        kind=f.string(obj, "kind", where, max_len=32) if "kind" in obj else RANKING,
        lines=_lines_from_json(obj, where),
    )


def _lines_from_json(obj: f.JsonObject, where: str) -> tuple[str, ...]:
    if "lines" not in obj:
        return ()
    lines = f.array(obj, "lines", where, max_len=MAX_SIGN_LINES)
    holder = {str(i): v for i, v in enumerate(lines)}
    return tuple(
        f.string(holder, str(i), f"{where}.lines", max_len=MAX_LINE_CHARS) for i in range(len(lines))
    )


def _row_from_json(value: object, where: str) -> RankRow:
    obj = f.require_object(value, where)
    f.reject_unknown(obj, frozenset({"rank", "name", "points", "department"}), where)
    return RankRow(
        rank=f.integer(obj, "rank", where, minimum=1),
        name=f.string(obj, "name", where, max_len=64),
        points=f.integer(obj, "points", where, minimum=f.INT64_MIN),
        department=f.optional_string(obj, "department", where, max_len=64),
    )


def decode_command(payload: bytes) -> Command:
    obj = _load(payload, "cmd", frozenset({"cmd_id", "expires_at", "type", "args"}))
    return Command(
        cmd_id=f.string(obj, "cmd_id", "cmd", max_len=64),
        expires_at=f.timestamp(obj, "expires_at", "cmd"),
        type=f.string(obj, "type", "cmd", max_len=64),
        args=f.require_object(f.field(obj, "args", "cmd"), "cmd.args"),
    )


_STATUS_FIELDS = frozenset(
    {
        "state",
        "agent_version",
        "at",
        "backlog_rows",
        "backlog_bytes",
        "oldest_unacked_age_s",
        "dropped",
        "outbox_full",
        "devices",
        "device_errors",
    }
)


def decode_status(payload: bytes) -> AgentStatus:
    obj = _load(payload, "status", _STATUS_FIELDS)
    state = f.string(obj, "state", "status", max_len=16)
    if state == "offline":
        return AgentStatus(state="offline")
    if state != "online":
        raise SyncProtocolError("status.state: expected 'online' or 'offline'")
    devices = f.require_object(f.field(obj, "devices", "status"), "status.devices")
    if len(devices) > MAX_STATUS_DEVICES or any(len(name) > 64 for name in devices):
        raise SyncProtocolError(f"status.devices: at most {MAX_STATUS_DEVICES} names of ≤ 64 chars")
    outbox_full = obj.get("outbox_full", False)
    if not isinstance(outbox_full, bool):
        raise SyncProtocolError("status.outbox_full: expected a boolean")
    return AgentStatus(
        state="online",
        agent_version=f.string(obj, "agent_version", "status", max_len=64),
        at=f.timestamp(obj, "at", "status"),
        backlog_rows=f.integer(obj, "backlog_rows", "status"),
        backlog_bytes=f.integer(obj, "backlog_bytes", "status"),
        oldest_unacked_age_s=f.optional_number(obj, "oldest_unacked_age_s", "status"),
        dropped=f.integer(obj, "dropped", "status"),
        outbox_full=outbox_full,
        devices={name: f.string(devices, name, "status.devices", max_len=32) for name in devices},
        device_errors=_device_errors(obj),
    )


def _device_errors(obj: f.JsonObject) -> dict[str, int]:
    errors = f.require_object(obj.get("device_errors", {}), "status.device_errors")
    if len(errors) > MAX_STATUS_DEVICES or any(len(name) > 64 for name in errors):
        raise SyncProtocolError(f"status.device_errors: at most {MAX_STATUS_DEVICES} names of ≤ 64 chars")
    return {name: f.integer(errors, name, "status.device_errors") for name in errors}
