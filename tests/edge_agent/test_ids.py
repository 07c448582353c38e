"""UUIDv7: version and variant bits, the timestamp, strict ordering within one process."""

from __future__ import annotations

import time
import uuid

from edge_agent.ids import uuid7, uuid7_millis, uuid7_str, uuid7_strs


def test_version_variant_and_timestamp() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= uuid7_millis(value) <= after + 1


def test_ids_are_strictly_increasing_even_within_one_millisecond() -> None:
    ids = [uuid7() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    texts = [uuid7_str() for _ in range(1000)]
    assert texts == sorted(texts)  # text order is time order too


def test_ids_drawn_in_bulk_are_canonical_uuid7_and_keep_increasing() -> None:
    before = time.time_ns() // 1_000_000
    texts = [uuid7_str(), *uuid7_strs(5000), uuid7_str(), *uuid7_strs(1), *uuid7_strs(0)]
    after = time.time_ns() // 1_000_000
    assert texts == sorted(texts)
    assert len(set(texts)) == len(texts) == 5003
    for text in texts:
        value = uuid.UUID(text)
        assert str(value) == text  # canonical text
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert before <= uuid7_millis(value) <= after + 2  # 5,000 ids may borrow a millisecond
