"""Totality on values (STYLE.md 15): every field of every message, given a value that parses but cannot be
represented, is a ``SyncProtocolError`` (never OverflowError, ValueError, UnicodeError, ...).

Each property draws a VALID message, checks it decodes (the control), then puts one generated bad
value into one of its fields (a slot) and checks the decoder refuses it. Slots are a table per
message: where the field sits in the JSON and what kind of value it holds, which decides the bad
values that are meaningful for it (an overflowing time for a time, 2^63 for an integer column, a
string one past its bound). NaN, ±Infinity, 1e400, integers past 64 bits and lone surrogates fit
every slot, including deep inside the free JSON of ``data`` and ``args``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import sync
from tests.firmware_protocols.sync import strategies as valid

Kind = Literal["time", "count", "signed", "number", "text", "free"]
Path = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Raw:
    """JSON text put into the payload as is (``1e400``, an integer of 5,000 digits)."""

    text: str


@dataclasses.dataclass(frozen=True)
class Slot:
    path: Path  # keys and list indexes from the message's top-level object
    kind: Kind
    max_len: int = 0  # for text: the bound; 0 when the decoder's check is not a length
    minimum: int = 0  # for count: the least valid value


EVENT: tuple[Slot, ...] = (
    Slot(("id",), "text", 36),
    Slot(("seq",), "count", minimum=1),
    Slot(("kind",), "text", 32),
    Slot(("device",), "text", 64),
    Slot(("occurred_at",), "time"),
    Slot(("device_time",), "text", 64),
    Slot(("received_at",), "time"),
    Slot(("data",), "free"),
)
SLOTS: dict[str, tuple[Slot, ...]] = {
    "batch": (
        Slot(("batch_id",), "text", 64),
        *(dataclasses.replace(s, path=("events", 0, *s.path)) for s in EVENT),
    ),
    "ack": (Slot(("batch_id",), "text", 64), Slot(("event_ids", 0), "text", 36)),
    "display": (
        Slot(("version",), "count"),
        Slot(("generated_at",), "time"),
        Slot(("signs", 0, "sign"), "text", 64),
        Slot(("signs", 0, "title"), "text", 256),
        Slot(("signs", 0, "period"), "text", 32),
        Slot(("signs", 0, "kind"), "text", 32),
        Slot(("signs", 0, "lines"), "free"),  # a list of strings: bad values go in as items
    ),
    "row": (  # a row of the display's first sign (one is appended when the sign has none)
        Slot(("signs", 0, "rows", 0, "rank"), "count", minimum=1),
        Slot(("signs", 0, "rows", 0, "name"), "text", 64),
        Slot(("signs", 0, "rows", 0, "points"), "signed"),
        Slot(("signs", 0, "rows", 0, "department"), "text", 64),
    ),
    "cmd": (
        Slot(("cmd_id",), "text", 64),
        Slot(("expires_at",), "time"),
        Slot(("type",), "text", 64),
        Slot(("args",), "free"),
    ),
    "status": (
        Slot(("agent_version",), "text", 64),
        Slot(("at",), "time"),
        Slot(("backlog_rows",), "count"),
        Slot(("backlog_bytes",), "count"),
        Slot(("oldest_unacked_age_s",), "number"),
        Slot(("dropped",), "count"),
        Slot(("devices",), "free"),
    ),
}

# --- bad values, generated -------------------------------------------------------------------

# Naive bounds: hypothesis draws naive datetimes here, and the offset is attached by hand.
NAIVE_MIN, NAIVE_MAX = dt.datetime.min, dt.datetime.max  # noqa: DTZ901
FIRST_DAY_END = dt.datetime(1, 1, 1, 23, 59, 59)  # noqa: DTZ001
LAST_DAY_START = dt.datetime(9999, 12, 31)  # noqa: DTZ001


def _at_offset(moment: dt.datetime, minutes: int) -> str:
    return moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes))).isoformat()


# Local times on the calendar's last (first) day with an offset west (east) of UTC: in UTC they fall
# past the end (before the start), or within a day of it, where a later local conversion overflows.
overflowing_times = st.builds(
    _at_offset, st.datetimes(min_value=LAST_DAY_START, max_value=NAIVE_MAX), st.integers(-1439, 0)
) | st.builds(_at_offset, st.datetimes(min_value=NAIVE_MIN, max_value=FIRST_DAY_END), st.integers(0, 1439))
naive_times = st.datetimes().map(dt.datetime.isoformat)
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf"), Raw("1e400"), Raw("-1e400")])
beyond_64_bits = st.integers(min_value=2**64) | st.integers(max_value=-(2**63) - 1) | st.just(Raw("9" * 5000))
lone_surrogates = st.builds(
    lambda before, surrogate, after: before + surrogate + after,
    st.text(max_size=4),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=4),
)
universal = non_finite | beyond_64_bits | lone_surrogates


def bad_values(slot: Slot) -> st.SearchStrategy[object]:
    """Values the slot's field cannot carry: the universal ones, and those meaningful for its kind."""
    match slot.kind:
        case "time":
            return universal | overflowing_times | naive_times
        case "count":
            return universal | st.integers(2**63, 2**64 - 1) | st.integers(-(2**63), slot.minimum - 1)
        case "signed":
            return universal | st.integers(2**63, 2**64 - 1)
        case "text" if slot.max_len:
            return universal | st.text(min_size=slot.max_len + 1, max_size=slot.max_len + 40)
        case _:
            return universal


# --- putting a bad value into a message ------------------------------------------------------


def _placed(body: dict[str, Any], slot: Slot, bad: object, nest: int) -> dict[str, Any]:
    """``body`` with ``bad`` at the slot; in free JSON, ``nest`` levels deep under a fresh key."""
    parent: Any = body
    for step in slot.path[:-1]:
        parent = parent[step]
    last = slot.path[-1]
    if slot.kind != "free":
        parent[last] = bad
        return body
    inner: object = bad
    for level in range(nest):
        inner = [inner] if level % 2 else {"k": inner}
    target = parent.setdefault(last, [] if last == "lines" else {})
    if isinstance(target, list):
        target.append(inner)
    else:
        target["zz"] = inner
    return body


def _serialised(body: dict[str, Any], bad: object, raw_utf8: bool) -> bytes:
    """JSON bytes of ``body``; lone surrogates either escaped or (``raw_utf8``) as surrogate bytes."""
    marker = "@@raw@@"
    text = json.dumps(body, ensure_ascii=not raw_utf8, default=lambda _: marker)
    if isinstance(bad, Raw):
        text = text.replace(f'"{marker}"', bad.text)
    return text.encode("utf-8", "surrogatepass")


def _refused(decode: Callable[[bytes], object], payload: bytes) -> bool:
    try:
        decode(payload)
    except sync.SyncProtocolError:
        return True
    return False


def _ensure_row(body: dict[str, Any]) -> dict[str, Any]:
    rows = body["signs"][0]["rows"]
    if not rows:
        rows.append({"rank": 1, "name": "n", "points": 0, "department": "d"})
    elif rows[0].get("department") is None:
        rows[0]["department"] = "d"
    return body


CASES: dict[str, tuple[st.SearchStrategy[Any], Callable[[bytes], object]]] = {
    "batch": (valid.batches, sync.decode_batch),
    "ack": (valid.acks, sync.decode_ack),
    "display": (valid.displays, sync.decode_display),
    "row": (valid.displays, sync.decode_display),
    "cmd": (valid.commands, sync.decode_command),
    "status": (valid.statuses, sync.decode_status),
}


@pytest.mark.parametrize("case", sorted(CASES))
@given(data=st.data(), nest=st.integers(0, 4), raw_utf8=st.booleans())
def test_an_unrepresentable_value_in_any_field_is_a_protocol_error(
    case: str, data: st.DataObject, nest: int, raw_utf8: bool
) -> None:
    messages, decode = CASES[case]
    body = json.loads(sync.encode(data.draw(messages)))
    if case == "row":
        body = _ensure_row(body)
    control = json.dumps(body).encode()
    assert not _refused(decode, control), "the valid message must decode (control)"
    slot = data.draw(st.sampled_from(SLOTS[case]), label="slot")
    bad = data.draw(bad_values(slot), label="bad value")
    assert _refused(decode, _serialised(_placed(body, slot, bad, nest), bad, raw_utf8))


@given(event=valid.events, slot=st.sampled_from(EVENT), data=st.data())
def test_decode_event_is_as_strict_as_the_batch_decoder(
    event: sync.Event, slot: Slot, data: st.DataObject
) -> None:
    """The cloud splits a failed batch with ``decode_event`` on leniently parsed JSON: same verdicts."""
    body = json.loads(json.dumps(event.to_json()))
    assert sync.decode_event(body) == event  # control
    bad = data.draw(bad_values(slot).filter(lambda v: not isinstance(v, Raw)))
    lenient = json.loads(json.dumps(_placed(body, slot, bad, 1)))  # NaN, 2^70 and "\ud800" all pass here
    with pytest.raises(sync.SyncProtocolError):
        sync.decode_event(lenient, "batch.events[0]")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0001-01-02T00:00:00Z", True),  # the earliest time
        ("9999-12-30T23:59:59.999999Z", True),  # the latest
        ("9999-12-31T00:00:00+14:00", True),  # = 9999-12-30T10:00Z
        ("9999-12-31T23:59:00-14:00", False),  # overflows in UTC
        ("0001-01-01T00:00:00+14:00", False),  # overflows in UTC
        ("9999-12-31T00:00:00Z", False),  # a day too close to the end
        ("0001-01-01T23:59:59Z", False),
    ],
)
def test_the_edges_of_the_time_range(text: str, accepted: bool) -> None:
    event = json.loads(json.dumps(sync.decode_batch(sync.encode(valid.EXAMPLE_BATCH)).events[0].to_json()))
    payload = json.dumps({"v": 1, "batch_id": "b", "events": [event | {"occurred_at": text}]}).encode()
    assert _refused(sync.decode_batch, payload) is not accepted


def test_errors_name_the_field_at_fault() -> None:
    event = sync.encode(valid.EXAMPLE_BATCH).decode()
    cases = {
        '"seq":1': ('"seq":9223372036854775808', "batch.events[0].seq"),
        '"device":"zk-1"': ('"device":"\\udc80x"', "batch.events[0].device"),
        '"pin":"1"': ('"pin":"1","\\ud800":1', "batch.events[0].data (a key)"),
    }
    for old, (new, where) in cases.items():
        assert old in event
        with pytest.raises(sync.SyncProtocolError, match="^" + re.escape(where)):
            sync.decode_batch(event.replace(old, new).encode())
