"""Property: whatever mix of keyed and unkeyed records arrives, every record is stored or counted."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from edge_agent.outbox import running_outbox
from tests.edge_agent.outbox.helpers import punch

calls = st.lists(st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=8), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None)
@given(calls)
def test_stored_plus_duplicates_accounts_for_every_record(batches: list[list[tuple[int, bool]]]) -> None:
    asyncio.run(_check(batches))


async def _check(batches: list[list[tuple[int, bool]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_outbox(Path(tmp) / "outbox.db") as outbox:
            results = await asyncio.gather(*(outbox.accept([punch(n, key=k) for n, k in b]) for b in batches))
            events = await outbox.claim_batch(1000)
    records = [r for b in batches for r in b]
    distinct_keys = {n for n, keyed in records if keyed}
    unkeyed = sum(1 for _, keyed in records if not keyed)
    assert sum(r.stored + r.duplicates for r in results) == len(records)
    assert len(events) == sum(r.stored for r in results) == len(distinct_keys) + unkeyed
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


# (operation, argument): claim up to n rows; release or ack the i-th batch claimed so far.
lease_ops = st.lists(
    st.tuples(st.sampled_from(["claim", "release", "ack"]), st.integers(0, 12)), min_size=1, max_size=25
)


@settings(max_examples=60, deadline=None)
@given(lease_ops)
# a release leaves leased rows past the read-on point; the next claim must read past them
@example([("claim", 5), ("claim", 5), ("release", 0), ("claim", 3), ("claim", 5)])
def test_a_claim_is_always_the_first_rows_neither_leased_nor_acked(ops: list[tuple[str, int]]) -> None:
    asyncio.run(_check_claims(ops))


async def _check_claims(ops: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_outbox(Path(tmp) / "outbox.db") as outbox:
            await outbox.accept([punch(n) for n in range(30)])
            every = [row[1] for row in await outbox.claim_rows(30)]
            outbox.release(every)
            leased: set[str] = set()
            acked: set[str] = set()
            batches: list[list[str]] = []
            for op, n in ops:
                if op == "claim":
                    due = [i for i in every if i not in leased and i not in acked]
                    claimed = [row[1] for row in await outbox.claim_rows(n)]
                    assert claimed == due[:n]  # the model: the first n due rows, in seq order
                    leased.update(claimed)
                    batches.append(claimed)
                elif batches:
                    batch = batches[n % len(batches)]
                    if op == "release":
                        outbox.release(batch)
                        leased.difference_update(batch)
                    else:
                        await outbox.ack(batch)
                        leased.difference_update(batch)
                        acked.update(batch)
