"""Batch splitting: total on any bytes, lossless on valid batches, one bad event isolated."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from cloud.ingest.splitting import split_batch
from firmware_protocols import sync
from tests.cloud import events

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
