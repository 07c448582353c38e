"""AUD-1: the hash chain detects an edited, removed, inserted or reordered entry, and names where."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud.audit import (
    GENESIS_HASH,
    ChainEntry,
    Problem,
    ProblemKind,
    append,
    canonical_json,
    entry_hash,
    verify_chain,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def build_chain(length: int = 8) -> list[ChainEntry]:
    entries: list[ChainEntry] = []
    for index in range(length):
        fields = {
            "at": T0 + timedelta(minutes=index),
            "actor": f"admin-{index % 3}",
            "action": "award",
            "points": index,
        }
        entries.append(append(entries[-1] if entries else None, fields))
    return entries


def kinds_at(problems: list[Problem], seq: int) -> set[ProblemKind]:
    return {problem.kind for problem in problems if problem.seq == seq}


def test_an_untouched_chain_verifies() -> None:
    chain = build_chain()
    assert verify_chain(chain) == []
    assert verify_chain(chain, head=chain[-1].hash) == []
    assert verify_chain([]) == []
    assert chain[0].prev_hash == GENESIS_HASH
    assert [entry.seq for entry in chain] == list(range(1, 9))


def test_an_edited_entry_is_named() -> None:
    chain = build_chain()
    chain[3] = dataclasses.replace(chain[3], fields={**chain[3].fields, "points": 1000})
    problems = verify_chain(chain)
    assert [(problem.seq, problem.kind) for problem in problems] == [(4, ProblemKind.EDITED)]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    chain = build_chain()
    fields = {**chain[3].fields, "points": 1000}
    chain[3] = dataclasses.replace(
        chain[3], fields=fields, hash=entry_hash(chain[3].prev_hash, {**fields, "seq": 4})
    )
    problems = verify_chain(chain)
    assert [(problem.seq, problem.kind) for problem in problems] == [(5, ProblemKind.BROKEN_LINK)]


def test_a_renumbered_entry_is_an_edit() -> None:
    chain = build_chain()
    chain[3] = dataclasses.replace(chain[3], seq=40)
    problems = verify_chain(chain)
    assert problems[0].seq == 4
    assert kinds_at(problems, 40) == {ProblemKind.EDITED}


def test_a_removed_entry_is_named() -> None:
    chain = build_chain()
    del chain[3]
    problems = verify_chain(chain)
    assert problems[0].seq == 4
    assert problems[0].kind is ProblemKind.OUT_OF_SEQUENCE
    assert kinds_at(problems, 5) == {ProblemKind.BROKEN_LINK}


def test_an_inserted_entry_is_detected() -> None:
    chain = build_chain()
    forged = append(chain[2], {"at": T0, "actor": "intruder", "action": "award", "points": 99})  # a valid #4
    chain.insert(3, forged)
    problems = verify_chain(chain)
    assert problems[0].seq == 4
    assert {problem.kind for problem in problems} == {ProblemKind.OUT_OF_SEQUENCE, ProblemKind.BROKEN_LINK}


def test_reordered_entries_are_detected() -> None:
    chain = build_chain()
    chain[3], chain[4] = chain[4], chain[3]
    problems = verify_chain(chain)
    assert problems[0].seq == 4
    assert ProblemKind.BROKEN_LINK in {problem.kind for problem in problems}


def test_swapped_contents_with_kept_numbers_are_detected() -> None:
    chain = build_chain()
    a, b = chain[3], chain[4]
    chain[3] = dataclasses.replace(b, seq=a.seq)
    chain[4] = dataclasses.replace(a, seq=b.seq)
    assert verify_chain(chain)[0].seq == 4


def test_the_head_anchor_catches_a_removed_or_rewritten_tail() -> None:
    chain = build_chain()
    head = chain[-1].hash
    assert verify_chain(chain[:-2]) == []  # what a chain alone cannot see ...
    problems = verify_chain(chain[:-2], head=head)  # ... the anchor shows
    assert [(problem.seq, problem.kind) for problem in problems] == [(6, ProblemKind.HEAD_MISMATCH)]

    rewritten = chain[:5]
    for entry in chain[5:]:
        rewritten.append(append(rewritten[-1], {**entry.fields, "points": 0}))
    assert verify_chain(rewritten) == []
    assert verify_chain(rewritten, head=head)[0].kind is ProblemKind.HEAD_MISMATCH


def test_verification_can_start_after_a_checkpoint() -> None:
    chain = build_chain()
    assert verify_chain(chain[4:], after_seq=4, after_hash=chain[3].hash) == []
    assert verify_chain(chain[4:])[0].seq == 1  # control: from genesis the suffix does not fit


TAMPERS = ["edit", "remove", "insert", "reorder", "renumber"]


@given(length=st.integers(min_value=2, max_value=20), data=st.data())
def test_any_single_tamper_is_detected_at_its_position(length: int, data: st.DataObject) -> None:
    chain = build_chain(length)
    index = data.draw(st.integers(min_value=0, max_value=length - 2))
    tamper = data.draw(st.sampled_from(TAMPERS))
    if tamper == "edit":
        chain[index] = dataclasses.replace(
            chain[index], fields={**chain[index].fields, "actor": "someone else"}
        )
    elif tamper == "remove":
        del chain[index]
    elif tamper == "insert":
        chain.insert(index, append(chain[index - 1] if index else None, {"action": "forged"}))
    elif tamper == "reorder":
        chain[index], chain[index + 1] = chain[index + 1], chain[index]
    else:
        chain[index] = dataclasses.replace(chain[index], seq=chain[index].seq + 100)
    problems = verify_chain(chain)
    assert problems
    assert problems[0].seq == index + 1


def test_canonical_json_is_stable_and_strict() -> None:
    fields = {"b": 1, "a": "张三", "at": datetime(2026, 3, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))}
    assert canonical_json(fields) == '{"a":"张三","at":"2026-03-01T08:00:00Z","b":1}'.encode()
    assert canonical_json({"id": uuid.UUID(int=1)}) == b'{"id":"00000000-0000-0000-0000-000000000001"}'
    with pytest.raises(TypeError, match="timezone-aware"):
        canonical_json({"at": datetime(2026, 3, 1)})  # noqa: DTZ001 - the naive value under test
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_entries_read_back_from_stored_json_still_verify() -> None:
    chain = build_chain()
    stored = [
        ChainEntry(
            seq=entry.seq,
            fields=json.loads(canonical_json(entry.fields)),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
        for entry in chain
    ]
    assert verify_chain(stored) == []


def test_seq_is_set_by_the_chain() -> None:
    with pytest.raises(ValueError, match="seq"):
        append(None, {"seq": 5})
