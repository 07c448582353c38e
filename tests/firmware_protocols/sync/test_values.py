"""Totality on values (STYLE.md 15): every field of every message, given a value that parses but cannot be
represented, is a ``SyncProtocolError`` (never OverflowError, ValueError, UnicodeError, ...).

Each property draws a VALID message, checks it decodes (the control), then puts one generated bad
value (``bad_values.py``) into one of its fields (a slot, from the table there) and checks the
decoder refuses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import sync
from tests.firmware_protocols.sync import strategies as valid
from tests.firmware_protocols.sync.bad_values import EVENT, SLOTS, Raw, Slot, bad_values, placed, serialised


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
    assert _refused(decode, serialised(placed(body, slot, bad, nest), bad, raw_utf8))


@given(event=valid.events, slot=st.sampled_from(EVENT), data=st.data())
def test_decode_event_is_as_strict_as_the_batch_decoder(
    event: sync.Event, slot: Slot, data: st.DataObject
) -> None:
    """The cloud splits a failed batch with ``decode_event`` on leniently parsed JSON: same verdicts."""
    body = json.loads(json.dumps(event.to_json()))
    assert sync.decode_event(body) == event  # control
    bad = data.draw(bad_values(slot).filter(lambda v: not isinstance(v, Raw)))
    lenient = json.loads(json.dumps(placed(body, slot, bad, 1)))  # NaN, 2^70 and "\ud800" all pass here
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
