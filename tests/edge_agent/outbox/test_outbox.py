"""Outbox semantics on a real SQLite file: durability, group commit, seq, dedup, claim, ack."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest

from edge_agent.outbox import SCHEMA_VERSION, Outbox, OutboxClosed, read_stats, running_outbox
from firmware_protocols.sync.fast import row_bytes
from tests.edge_agent.outbox.helpers import punch


def rows_seen_by_another_connection(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT seq, id FROM events ORDER BY seq"))


async def test_accept_returns_only_after_commit(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        result = await outbox.accept([punch(1), punch(2)])
        # Right after accept returns, an independent connection sees the rows: they are committed.
        seen = rows_seen_by_another_connection(db)
    assert (result.stored, result.duplicates) == (2, 0)
    assert [seq for seq, _ in seen] == [1, 2]


async def test_concurrent_callers_share_one_transaction(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        before = outbox.transactions
        results = await asyncio.gather(*(outbox.accept([punch(i)]) for i in range(200)))
        transactions = outbox.transactions - before
    assert sum(r.stored for r in results) == 200
    assert transactions <= 2, f"200 concurrent callers took {transactions} transactions"


async def test_control_sequential_callers_take_one_transaction_each(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        before = outbox.transactions
        for i in range(5):
            await outbox.accept([punch(i)])
        assert outbox.transactions - before == 5


async def test_ids_are_uuid7_in_seq_order(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        for chunk in range(5):
            await outbox.accept([punch(chunk * 100 + i) for i in range(100)])
        events = await outbox.claim_batch(1000)
    ids = [uuid.UUID(e.id) for e in events]
    assert all(u.version == 7 for u in ids)
    assert [e.seq for e in events] == list(range(1, 501))
    assert ids == sorted(ids)


async def test_seq_is_never_reused_across_restart(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        await outbox.accept([punch(1), punch(2), punch(3)])
        events = await outbox.claim_batch(10)
        assert await outbox.ack([e.id for e in events]) == 3
    async with running_outbox(db) as outbox:
        await outbox.accept([punch(4)])
        (event,) = await outbox.claim_batch(10)
    assert event.seq == 4


async def test_duplicates_are_counted_not_stored_even_after_ack(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        first = await outbox.accept([punch(1), punch(2), punch(1)])
        events = await outbox.claim_batch(10)
        await outbox.ack([e.id for e in events])
    async with running_outbox(db) as outbox:
        again = await outbox.accept([punch(1), punch(2), punch(3)])
        unkeyed = await outbox.accept([punch(9, key=False), punch(9, key=False)])
        assert await outbox.is_known("door", "SN1|1|1|0")
    assert (first.stored, first.duplicates) == (2, 1)
    assert (again.stored, again.duplicates) == (1, 2)
    assert (unkeyed.stored, unkeyed.duplicates) == (2, 0)


async def test_same_key_on_another_device_is_not_a_duplicate(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        a = await outbox.accept([punch(1, device="door")])
        b = await outbox.accept([punch(1, device="gate")])
    assert (a.stored, b.stored) == (1, 1)


async def test_ack_deletes_exactly_those_ids(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        await outbox.accept([punch(i) for i in range(10)])
        events = await outbox.claim_batch(10)
        acked = [events[1].id, events[5].id, str(uuid.uuid4())]  # one id the outbox never had
        assert await outbox.ack(acked) == 2
    left = [event_id for _, event_id in rows_seen_by_another_connection(db)]
    assert left == [e.id for e in events if e.id not in acked]


async def test_claims_are_leased_and_come_back_after_the_lease(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db", lease_s=0.3) as outbox:
        await outbox.accept([punch(i) for i in range(5)])
        first = await outbox.claim_batch(3)
        second = await outbox.claim_batch(3)
        assert [e.seq for e in first] == [1, 2, 3]
        assert [e.seq for e in second] == [4, 5]
        assert await outbox.claim_batch(3) == []

        async def due_again() -> list[int]:
            return [e.seq for e in await outbox.claim_batch(10)]

        from tests.support.polling import async_wait_for

        assert await async_wait_for(due_again, timeout=5, what="leases to expire") == [1, 2, 3, 4, 5]


async def test_claim_after_restart_returns_unacked_rows(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db, lease_s=3600) as outbox:
        await outbox.accept([punch(i) for i in range(4)])
        claimed = await outbox.claim_batch(4)
        await outbox.ack([claimed[0].id])
    async with running_outbox(db, lease_s=3600) as outbox:
        again = await outbox.claim_batch(10)
    assert [e.id for e in again] == [e.id for e in claimed[1:]]
    assert again[0].occurred_at == claimed[1].occurred_at
    assert again[0].device_time == claimed[1].device_time
    assert again[0].data == claimed[1].data


async def test_file_mode_and_schema_version(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        await outbox.accept([punch(1)])
        modes = [stat.S_IMODE(os.stat(name).st_mode) for name in (db, f"{db}-wal")]
    assert modes == [0o600, 0o600]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_stats_running_and_read_only(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db) as outbox:
        empty = await outbox.stats()
        await outbox.accept([punch(i) for i in range(7)])
        await outbox.save_latest(
            "display", b'{"v":1,"version":5,"generated_at":"2026-03-01T00:00:00Z","signs":[]}'
        )
        live = await outbox.stats()
        offline = read_stats(db)  # works while the agent's connections are open
    assert (empty.backlog_rows, empty.oldest_unacked_age_s) == (0, None)
    assert live.backlog_rows == offline.backlog_rows == 7
    assert live.bytes > 0
    assert offline.bytes > 0
    assert live.oldest_unacked_age_s is not None
    assert 0 <= live.oldest_unacked_age_s < 60
    assert offline.last_display_version == 5


async def test_accept_after_stop_is_refused(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        pass
    with pytest.raises(OutboxClosed):
        await outbox.accept([punch(1)])


async def test_cancelled_writer_finishes_queued_commits(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with Outbox(db) as outbox:
        writer = asyncio.create_task(outbox.run_writer())
        callers = [asyncio.create_task(outbox.accept([punch(i)])) for i in range(50)]
        await asyncio.sleep(0)  # let the callers queue (no timing: one loop turn)
        writer.cancel()
        results = await asyncio.gather(*callers)
        with pytest.raises(asyncio.CancelledError):
            await writer
    assert sum(r.stored for r in results) == 50
    assert len(rows_seen_by_another_connection(db)) == 50


async def test_a_row_acked_while_a_claim_reads_is_not_claimed_again(tmp_path: Path) -> None:
    """A claim's read may start before an ack's delete commits; the acked rows must not come back."""
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        await outbox.accept([punch(i) for i in range(3000)])
        acked: set[str] = set()
        claimed_after_ack: list[str] = []

        async def ack(batch_ids: list[str]) -> None:
            await outbox.ack(batch_ids)
            acked.update(batch_ids)

        acks: list[asyncio.Task[None]] = []
        while batch := await outbox.claim_batch(100):
            claimed_after_ack += [e.id for e in batch if e.id in acked]
            acks.append(asyncio.create_task(ack([e.id for e in batch])))
        await asyncio.gather(*acks)
        assert len(acked) == 3000
        assert claimed_after_ack == []


async def test_claim_rows_stops_at_the_byte_budget_and_leases_only_what_it_returns(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        await outbox.accept([punch(i, pad=1000) for i in range(10)])
        everything = await outbox.claim_rows(10)
        one_row = row_bytes(everything[0])  # the rows are alike
        outbox.release([row[1] for row in everything])
        within = await outbox.claim_rows(10, max_bytes=3 * one_row + one_row // 2)
        assert [row[0] for row in within] == [1, 2, 3]
        oversized = await outbox.claim_rows(10, max_bytes=1)  # never stalls: one row at least
        assert [row[0] for row in oversized] == [4]
        rest = await outbox.claim_rows(10)  # control: without a budget, every unleased row
        assert [row[0] for row in rest] == [5, 6, 7, 8, 9, 10]


async def test_claims_read_on_past_leased_rows_and_from_the_start_after_a_release(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        await outbox.accept([punch(i) for i in range(400)])

        async def claim() -> list[int]:
            return [row[0] for row in await outbox.claim_rows(100)]

        first, second = await claim(), await claim()
        assert (first, second) == (list(range(1, 101)), list(range(101, 201)))
        assert await claim() == list(range(201, 301))
        lost = rows_seen_by_another_connection(tmp_path / "outbox.db")[:100]
        outbox.release([event_id for _, event_id in lost])  # batch 1 lost: due again, first
        assert await claim() == first
        assert await claim() == list(range(301, 401))  # and on past every leased row after it
        assert await claim() == []
