"""The row encoder: what it writes is exactly what ``encode(EventBatch)`` writes, and decodes back."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import sync
from firmware_protocols.sync.fast import EventRowText, encode_rows, row_bytes
from tests.firmware_protocols.sync.test_messages import aware_times, uuid7s

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
# Text as devices send it: CJK names, quotes, backslashes and control characters included.
awkward_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)


def as_row(event: sync.Event) -> EventRowText:
    """The row the agent stores for ``event`` (compact data JSON, ``…Z`` timestamps)."""
    data = json.dumps(dict(event.data), ensure_ascii=False, separators=(",", ":"))
    when = [t.isoformat().replace("+00:00", "Z") for t in (event.occurred_at, event.received_at)]
    return (event.seq, event.id, event.kind, event.device, when[0], event.device_time, when[1], data)


events = st.builds(
    sync.Event,
    id=uuid7s,
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    kind=st.text(max_size=32),
    device=awkward_text,
    occurred_at=aware_times,
    device_time=awkward_text,
    received_at=aware_times,
    data=st.dictionaries(awkward_text, json_values, max_size=4),
)


@given(batch_id=st.text(max_size=64), batch=st.lists(events, max_size=8))
def test_rows_encode_to_the_contract_bytes_and_decode_back(batch_id: str, batch: list[sync.Event]) -> None:
    expected = sync.EventBatch(batch_id=batch_id, events=tuple(batch))
    payload = encode_rows(batch_id, [as_row(e) for e in batch])
    assert payload == sync.encode(expected)
    assert sync.decode_batch(payload) == expected


@given(batch=st.lists(events, min_size=1, max_size=8))
def test_row_bytes_is_within_half_of_the_true_size(batch: list[sync.Event]) -> None:
    """Worst case a character escapes to 6 bytes (``\\u001f``), twice the estimate's 3: so a budget of
    a quarter of the payload limit can never produce a payload over half of it."""
    rows = [as_row(e) for e in batch]
    frame = len(encode_rows("b", []))
    assert len(encode_rows("b", rows)) - frame <= 2 * sum(row_bytes(r) for r in rows)


def test_control_a_foreign_timestamp_form_is_detected() -> None:
    """The byte-identity check is real: a row stored with +00:00 instead of Z differs from encode()."""
    event = sync.Event(
        id="01930b4e-6f00-7000-8000-000000000001",
        seq=1,
        kind="punch",
        device="d",
        occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        device_time="",
        received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        data={},
    )
    seq, event_id, kind, device, _, device_time, received_at, data = as_row(event)
    row = (seq, event_id, kind, device, "2026-01-01T00:00:00+00:00", device_time, received_at, data)
    payload = encode_rows("b", [row])
    assert payload != sync.encode(sync.EventBatch(batch_id="b", events=(event,)))
    assert sync.decode_batch(payload).events == (event,)  # still the same event to the cloud
