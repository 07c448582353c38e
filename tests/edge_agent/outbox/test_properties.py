"""Property: whatever mix of keyed and unkeyed records arrives, every record is stored or counted."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
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
