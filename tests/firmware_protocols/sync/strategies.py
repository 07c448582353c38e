"""Hypothesis strategies for valid contract messages (shared by the round-trip and bad-value properties)."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import strategies as st

from firmware_protocols import sync

# Integers the contract carries in free JSON (``data``, ``args``): 64 bits, signed or unsigned.
contract_ints = st.integers(-(2**63), 2**64 - 1)
aware_times = st.datetimes(
    # hypothesis takes naive bounds and attaches the zone itself
    # the contract's whole range: a day clear of the calendar's ends
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001
    max_value=dt.datetime(9999, 12, 30, 23, 59, 59, 999999),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)
names = st.text(min_size=1, max_size=10)
uuid7s = st.builds(
    lambda ms, rand: str(
        uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rand & ((1 << 76) - 1)) & ~(0xC << 60) | (0x8 << 60))
    ),
    st.integers(min_value=0, max_value=2**48 - 1),
    st.integers(min_value=0, max_value=2**76 - 1),
)
events = st.builds(
    sync.Event,
    id=uuid7s,
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    kind=st.sampled_from(["punch", "cmd_result"]),
    device=names,
    occurred_at=aware_times,
    device_time=names,
    received_at=aware_times,
    data=st.dictionaries(st.text(max_size=5), contract_ints | st.text(max_size=5), max_size=3),
)

rows = st.builds(
    sync.RankRow,
    rank=st.integers(1, 500),
    name=names,
    points=st.integers(-(2**63), 2**63 - 1),
    department=st.none() | names,
)

signs = st.builds(
    sync.SignContent,
    sign=names,
    title=names,
    period=names,
    rows=st.lists(rows, max_size=5).map(tuple),
    kind=st.just(sync.messages.RANKING) | names,
    lines=st.lists(st.text(max_size=sync.messages.MAX_LINE_CHARS), max_size=4).map(tuple),
)
displays = st.builds(
    sync.DisplayContent,
    version=st.integers(0, 2**63 - 1),
    generated_at=aware_times,
    signs=st.lists(signs, min_size=1, max_size=3).map(tuple),
)
batches = st.builds(
    sync.EventBatch, batch_id=names, events=st.lists(events, min_size=1, max_size=4).map(tuple)
)
acks = st.builds(sync.Ack, batch_id=names, event_ids=st.lists(uuid7s, min_size=1, max_size=5).map(tuple))
commands = st.builds(
    sync.Command,
    cmd_id=names,
    expires_at=aware_times,
    type=names,
    args=st.dictionaries(st.text(max_size=5), contract_ints | st.text(max_size=5), max_size=3),
)
statuses = st.builds(
    sync.AgentStatus,
    state=st.just("online"),
    agent_version=names,
    at=aware_times,
    backlog_rows=st.integers(0, 2**63 - 1),
    backlog_bytes=st.integers(0, 2**63 - 1),
    oldest_unacked_age_s=st.none() | st.floats(0, 1e12),
    dropped=st.integers(0, 2**63 - 1),
    outbox_full=st.booleans(),
    devices=st.dictionaries(names, st.sampled_from(["up", "down", "unknown"]), min_size=1, max_size=3),
    device_errors=st.dictionaries(names, st.integers(1, 2**63 - 1), max_size=3),
)

EXAMPLE_BATCH = sync.EventBatch(
    batch_id="b",
    events=(
        sync.Event(
            id="01930b4e-6f00-7000-8000-000000000001",
            seq=1,
            kind="punch",
            device="zk-1",
            occurred_at=dt.datetime(2026, 11, 2, 0, 59, tzinfo=dt.UTC),
            device_time="2026-11-02 08:59:00",
            received_at=dt.datetime(2026, 11, 2, 0, 59, 1, tzinfo=dt.UTC),
            data={"pin": "1", "similarity": 0.5},
        ),
    ),
)
