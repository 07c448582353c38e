"""The edge↔cloud contract: exact encodings, strict decoding, totality and round-trip properties."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import sync
from tests.firmware_protocols.sync.strategies import aware_times, contract_ints, events, names, rows, uuid7s

UTC = dt.UTC
EVENT_ID = "01930b4e-6f00-7000-8000-000000000001"


def make_event(**overrides: object) -> sync.Event:
    fields: dict[str, object] = {
        "id": EVENT_ID,
        "seq": 1,
        "kind": "punch",
        "device": "zk-front",
        "occurred_at": dt.datetime(2026, 11, 2, 0, 59, tzinfo=UTC),
        "device_time": "2026-11-02 08:59:00",
        "received_at": dt.datetime(2026, 11, 2, 0, 59, 1, tzinfo=UTC),
        "data": {"pin": "1"},
    }
    fields.update(overrides)
    return sync.Event(**fields)  # type: ignore[arg-type]


def test_batch_encoding_is_compact_json_with_version() -> None:
    batch = sync.EventBatch(batch_id="b1", events=(make_event(),))
    assert json.loads(sync.encode(batch)) == {
        "v": 1,
        "batch_id": "b1",
        "events": [
            {
                "id": EVENT_ID,
                "seq": 1,
                "kind": "punch",
                "device": "zk-front",
                "occurred_at": "2026-11-02T00:59:00Z",
                "device_time": "2026-11-02 08:59:00",
                "received_at": "2026-11-02T00:59:01Z",
                "data": {"pin": "1"},
            }
        ],
    }
    assert sync.decode_batch(sync.encode(batch)) == batch


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", "batch"),
        (b'{"v":2,"batch_id":"b","events":[]}', "batch.v"),
        (b'{"v":1,"batch_id":"b","events":[],"extra":1}', "extra"),
        (b'{"v":1,"events":[]}', "batch.batch_id"),
        (b'{"v":1,"batch_id":"b","events":[{"id":"x"}]}', "batch.events[0]"),
    ],
)
def test_bad_batches_name_the_field_at_fault(payload: bytes, field: str) -> None:
    with pytest.raises(sync.SyncProtocolError, match=field.replace("[", r"\[").replace("]", r"\]")):
        sync.decode_batch(payload)


def test_naive_timestamps_and_non_v7_ids_are_rejected() -> None:
    good = make_event().to_json()
    naive = {**good, "occurred_at": "2026-11-02T00:59:00"}
    v4 = {**good, "id": str(uuid.uuid4())}
    for event, field in ((naive, "occurred_at"), (v4, "id")):
        payload = json.dumps({"v": 1, "batch_id": "b", "events": [event]}).encode()
        with pytest.raises(sync.SyncProtocolError, match=field):
            sync.decode_batch(payload)


def test_display_content_is_a_projection_and_round_trips() -> None:
    content = sync.DisplayContent(
        version=3,
        generated_at=dt.datetime(2026, 11, 2, tzinfo=UTC),
        signs=(
            sync.SignContent(
                sign="lobby",
                title="积分榜 2026-11",
                period="2026-11",
                rows=(
                    sync.RankRow(rank=1, name="张*三", points=42),
                    sync.RankRow(rank=2, name="Bob", points=-1),
                ),
            ),
        ),
    )
    encoded = sync.encode(content)
    assert "张*三".encode() in encoded
    assert sync.decode_display(encoded) == content
    leaky = json.loads(encoded)
    leaky["signs"][0]["rows"][0]["phone"] = "13800000000"
    with pytest.raises(sync.SyncProtocolError, match="phone"):
        sync.decode_display(json.dumps(leaky).encode())


def test_a_ranking_sign_encodes_as_before_kind_and_lines_existed() -> None:
    old = b'{"sign":"lobby","title":"T","period":"2026-11","rows":[]}'
    content = b'{"v":1,"version":1,"generated_at":"2026-11-02T00:00:00Z","signs":[' + old + b"]}"
    decoded = sync.decode_display(content)
    assert decoded.signs[0].kind == "ranking"
    assert decoded.signs[0].lines == ()
    assert sync.encode(decoded) == content


def test_free_text_lines_are_bounded() -> None:
    def display(lines: list[object]) -> bytes:
        sign = {"sign": "s", "title": "", "period": "", "rows": [], "kind": "announcement", "lines": lines}
        body = {"v": 1, "version": 1, "generated_at": "2026-11-02T00:00:00Z", "signs": [sign]}
        return json.dumps(body).encode()

    assert sync.decode_display(display(["x" * 64] * 20)).signs[0].lines == ("x" * 64,) * 20  # control
    bad_lines: tuple[list[object], ...] = (["x" * 65], ["x"] * 21, [3])
    for bad in bad_lines:
        with pytest.raises(sync.SyncProtocolError, match="lines"):
            sync.decode_display(display(bad))


def test_offline_last_will_is_minimal() -> None:
    assert sync.encode(sync.AgentStatus(state="offline")) == b'{"v":1,"state":"offline"}'
    assert sync.decode_status(b'{"v":1,"state":"offline"}') == sync.AgentStatus(state="offline")


def test_device_errors_are_omitted_when_none_and_bounded_when_present() -> None:
    at = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    status = sync.AgentStatus(state="online", at=at, devices={"door": "up"})
    assert b"device_errors" not in sync.encode(status)  # encodes as before the field existed
    counted = dataclasses.replace(status, device_errors={"door": 3})
    assert sync.decode_status(sync.encode(counted)) == counted

    def with_errors(errors: object) -> bytes:
        body = json.loads(sync.encode(status)) | {"device_errors": errors}
        return json.dumps(body).encode()

    for bad in ({"door": -1}, {"door": "3"}, {"door": 2**63}, {"x" * 65: 1}, ["door"]):
        with pytest.raises(sync.SyncProtocolError, match="device_errors"):
            sync.decode_status(with_errors(bad))


def test_topics_are_rooted_at_the_agent_identity() -> None:
    assert sync.topic("site-7", sync.Channel.EVENTS) == "mpm/v1/site-7/up/events"
    assert sync.parse_topic("mpm/v1/site-7/down/display") == ("site-7", sync.Channel.DISPLAY)
    assert sync.subscription(sync.Channel.EVENTS, shared_group="ingest") == "$share/ingest/mpm/v1/+/up/events"
    for bad in ("Site-7", "a/b", "", "x" * 65, "-lead"):
        with pytest.raises(sync.SyncProtocolError):
            sync.topic(bad, sync.Channel.STATUS)
    with pytest.raises(sync.SyncProtocolError):
        sync.parse_topic("mpm/v1/site-7/up/other")


def test_punch_data_round_trips_and_rejects_unknown_codes() -> None:
    punch = sync.Punch(
        pin="1001",
        verify_mode=sync.VerifyMode.FACE,
        verify_code="15",
        state=sync.PunchState.CHECK_IN,
        state_code="0",
        dedup_key="SN1|1001|2026-11-02 08:59:00|0",
    )
    assert sync.Punch.from_data(punch.to_data()) == punch
    with pytest.raises(sync.SyncProtocolError, match="verify_mode"):
        sync.Punch.from_data({**punch.to_data(), "verify_mode": "iris"})


DECODERS = [sync.decode_batch, sync.decode_ack, sync.decode_display, sync.decode_command, sync.decode_status]


@pytest.mark.parametrize("decode", DECODERS)
@given(payload=st.binary(max_size=300))
def test_decoders_are_total_on_random_bytes(decode: object, payload: bytes) -> None:
    with contextlib.suppress(sync.SyncProtocolError):
        decode(payload)  # type: ignore[operator]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize("decode", DECODERS)
@given(
    value=st.dictionaries(
        st.sampled_from(
            [
                "v",
                "batch_id",
                "events",
                "event_ids",
                "signs",
                "state",
                "version",
                "generated_at",
                "cmd_id",
                "args",
                "type",
            ]
        ),
        json_values,
        max_size=6,
    )
)
def test_decoders_are_total_on_random_json_shapes(decode: object, value: dict[str, object]) -> None:
    with contextlib.suppress(sync.SyncProtocolError):
        decode(json.dumps({"v": 1, **value}).encode())  # type: ignore[operator]


@given(batch=st.builds(sync.EventBatch, batch_id=names, events=st.lists(events, max_size=5).map(tuple)))
def test_batches_round_trip(batch: sync.EventBatch) -> None:
    assert sync.decode_batch(sync.encode(batch)) == batch


@given(ack=st.builds(sync.Ack, batch_id=names, event_ids=st.lists(uuid7s, max_size=5).map(tuple)))
def test_acks_round_trip(ack: sync.Ack) -> None:
    assert sync.decode_ack(sync.encode(ack)) == ack


@given(
    content=st.builds(
        sync.DisplayContent,
        version=st.integers(0, 10**9),
        generated_at=aware_times,
        signs=st.lists(
            st.builds(
                sync.SignContent,
                sign=names,
                title=names,
                period=names,
                rows=st.lists(rows, max_size=5).map(tuple),
                kind=st.just(sync.messages.RANKING) | names,
                lines=st.lists(st.text(max_size=sync.messages.MAX_LINE_CHARS), max_size=4).map(tuple),
            ),
            max_size=3,
        ).map(tuple),
    )
)
def test_display_content_round_trips(content: sync.DisplayContent) -> None:
    assert sync.decode_display(sync.encode(content)) == content


@given(
    command=st.builds(
        sync.Command,
        cmd_id=names,
        expires_at=aware_times,
        type=names,
        args=st.dictionaries(st.text(max_size=5), contract_ints, max_size=3),
    )
)
def test_commands_round_trip(command: sync.Command) -> None:
    assert sync.decode_command(sync.encode(command)) == command


sign_keys = st.sampled_from(["sign", "title", "period", "rows", "kind", "lines"])


@given(sign=st.dictionaries(sign_keys, json_values, max_size=6))
def test_display_decoder_is_total_on_random_sign_shapes(sign: dict[str, object]) -> None:
    body = {"v": 1, "version": 1, "generated_at": "2026-11-02T00:00:00Z", "signs": [sign]}
    with contextlib.suppress(sync.SyncProtocolError):
        sync.decode_display(json.dumps(body).encode())
