"""Batch splitting: total on any bytes, lossless on valid batches, one bad event isolated."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

from hypothesis import assume, given
from hypothesis import strategies as st

from cloud.ingest.splitting import split_batch
from firmware_protocols import sync
from tests.cloud import events
from tests.firmware_protocols.sync import bad_values, strategies

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=300))
def test_split_is_total_on_bytes(payload: bytes) -> None:
    with contextlib.suppress(sync.SyncProtocolError):
        split_batch(payload)


@given(_json)
def test_split_is_total_on_json_shaped_envelopes(events_value: object) -> None:
    payload = json.dumps({"v": 1, "batch_id": "b", "events": events_value}).encode()
    try:
        result = split_batch(payload)
    except sync.SyncProtocolError:
        return
    assert result.batch_id == "b"


@given(st.integers(min_value=0, max_value=5))
def test_a_valid_batch_splits_into_its_own_events(count: int) -> None:
    built = tuple(events.punch(str(i), events.local(dt.date(2026, 11, 2), 8)) for i in range(count))
    payload = sync.encode(sync.EventBatch(batch_id="b1", events=built))
    result = split_batch(payload)
    assert (result.batch_id, result.events, result.rejected) == ("b1", built, ())


def test_bad_events_are_isolated_and_keep_their_ids() -> None:
    good = events.punch("1", events.local(dt.date(2026, 11, 2), 8))
    bad = events.punch("2", events.local(dt.date(2026, 11, 2), 8))
    body = json.loads(sync.encode(sync.EventBatch(batch_id="b", events=(good,))))
    body["events"] += [bad.to_json() | {"seq": -1}, {"id": "not-a-uuid"}, 42]
    result = split_batch(json.dumps(body).encode())
    assert result.events == (good,)
    assert [r.event_id for r in result.rejected] == [bad.id, None, None]
    assert "batch.events[1].seq" in result.rejected[0].error


def test_a_bad_envelope_rejects_the_whole_payload() -> None:
    for body in (
        {"v": 2, "batch_id": "b", "events": []},
        {"v": 1, "events": [{}]},
        {"v": 1, "batch_id": "b", "x": 1, "events": [{}]},
    ):
        try:
            split_batch(json.dumps(body).encode())
        except sync.SyncProtocolError:
            continue
        raise AssertionError(f"accepted {body}")


@given(
    neighbours=st.lists(strategies.events, min_size=1, max_size=4, unique_by=lambda e: e.id),
    victim=strategies.events,
    slot=st.sampled_from(bad_values.EVENT),
    data=st.data(),
)
def test_one_generated_unrepresentable_value_rejects_its_event_alone(
    neighbours: list[sync.Event], victim: sync.Event, slot: bad_values.Slot, data: st.DataObject
) -> None:
    """Whatever the bad value and field, the other events come out decoded and the victim alone rejected."""
    assume(victim.id not in {e.id for e in neighbours})
    bad = data.draw(bad_values.bad_values(slot), label="bad value")
    position = data.draw(st.integers(0, len(neighbours)), label="position")
    body = json.loads(sync.encode(sync.EventBatch(batch_id="b", events=tuple(neighbours))))
    victim_json = bad_values.placed(json.loads(json.dumps(victim.to_json())), slot, bad, nest=1)
    body["events"].insert(position, victim_json)
    result = split_batch(bad_values.serialised(body, bad, raw_utf8=False))
    assert result.events == tuple(neighbours)
    [reject] = result.rejected
    assert reject.event_id == (victim.id if slot.path != ("id",) else None)
    assert reject.error.startswith(f"batch.events[{position}]")
    json.loads(reject.raw)  # kept as JSON text whatever the value (NaN, a lone surrogate's escape)
