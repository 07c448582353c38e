"""The link's ack reader gives the contract decoder's verdicts: same acks, same refusals."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.link.ack_reader import read_ack
from firmware_protocols import sync
from tests.firmware_protocols.sync.test_messages import json_values, uuid7s

GOOD_ID = "01930b4e-6f00-7000-8000-000000000001"


def verdict(decode: object, payload: bytes) -> sync.Ack | str:
    try:
        return decode(payload)  # type: ignore[operator,no-any-return]
    except sync.SyncProtocolError:
        return "refused"


ids = uuid7s | st.sampled_from(
    [
        GOOD_ID.upper(),  # not canonical
        GOOD_ID.replace("-7000-", "-4000-"),  # version 4
        GOOD_ID.replace("-8000-", "-c000-"),  # wrong variant
        "{" + GOOD_ID + "}",
        GOOD_ID.replace("-", ""),
        GOOD_ID + "\n",
        "",
    ]
)
ack_bodies = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 2, True, 1.0, "1"]),
        "batch_id": st.text(max_size=70) | json_values,
        "event_ids": st.lists(ids | json_values, max_size=4) | json_values,
        "extra": json_values,
    },
)


@given(body=ack_bodies)
def test_same_verdict_as_decode_ack_on_random_acks(body: dict[str, object]) -> None:
    payload = json.dumps(body).encode()
    assert verdict(read_ack, payload) == verdict(sync.decode_ack, payload)


@given(payload=st.binary(max_size=64))
def test_same_verdict_on_random_bytes(payload: bytes) -> None:
    assert verdict(read_ack, payload) == verdict(sync.decode_ack, payload)


def test_a_valid_ack_is_read() -> None:
    payload = sync.encode(sync.Ack(batch_id="b1", event_ids=(GOOD_ID,)))
    assert read_ack(payload) == sync.Ack(batch_id="b1", event_ids=(GOOD_ID,))


@pytest.mark.parametrize(
    "event_ids",
    [[GOOD_ID.upper()], [GOOD_ID, 7], [GOOD_ID + "'; DROP TABLE events; --"], [GOOD_ID] * 1001],
)
def test_malformed_ids_are_refused(event_ids: list[object]) -> None:
    with pytest.raises(sync.SyncProtocolError):
        read_ack(json.dumps({"v": 1, "batch_id": "b", "event_ids": event_ids}).encode())
