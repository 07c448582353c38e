"""Durable accept: our group-committing ``Outbox.accept`` vs raw sqlite3 on the same schema.

Every record is on disk (WAL, ``synchronous=FULL``) before its ``accept`` returns, so the figure is
set by fsyncs per second times records per fsync. One producer waits for each commit: one fsync per
record at best. Concurrent producers share a commit (group commit). The limits are raw sqlite3 on
the outbox's own schema: one transaction per row, and ``executemany`` in transactions of 1,000 rows.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import statistics
from pathlib import Path
from typing import Final

from bench.measure import Goal, Sizes, Stopwatch, rate, repeat_async, repeat_sync
from bench.profiling import sampling
from bench.recorder import Recorder
from bench.records import event_rows, punch_record
from bench.workdir import scratch
from edge_agent.outbox import running_outbox
from edge_agent.outbox.schema import DDL_V1, PRAGMAS
from edge_agent.records import DeviceRecord

NAME: Final = "outbox_accept"
TITLE: Final = "durable accept (group commit) vs raw sqlite3 WAL+FULL"
SUMMARY: Final = (
    "Producers call `Outbox.accept([one punch])` in a loop; each call returns once its record is "
    "fsynced (WAL, synchronous=FULL). Limits: raw sqlite3 on the same schema (events table, UUIDv7 "
    "index) and the same pragmas, one transaction per row and `executemany` batches of 1,000. In "
    "process, not through a running agent: capture is the outbox library's work, and no simulated "
    "device could push 40,000 records/s through a driver on this machine."
)
INSERT: Final = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def raw_connection(path: Path) -> sqlite3.Connection:
    """A sqlite3 connection with the outbox's pragmas and schema, in autocommit mode."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.executescript(f"BEGIN;\n{DDL_V1}\nCOMMIT;")
    return conn


def raw_insert(directory: Path, rows: int, per_transaction: int) -> float:
    """Rows/s inserting ``rows`` fresh rows, ``per_transaction`` per committed transaction."""
    data = event_rows(rows)
    conn = raw_connection(directory / f"raw-{per_transaction}-{id(data)}.db")
    try:
        with Stopwatch() as watch:
            for at in range(0, rows, per_transaction):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(INSERT, data[at : at + per_transaction])
                conn.execute("COMMIT")
        return rate(rows, watch.seconds)
    finally:
        conn.close()


def producer_records(producers: int, per_producer: int) -> list[list[DeviceRecord]]:
    """Each producer's fresh punches, made before anything is timed or profiled."""
    return [[punch_record() for _ in range(per_producer)] for _ in range(producers)]


async def ours(directory: Path, records: list[list[DeviceRecord]]) -> float:
    """Records/s with one concurrent caller of accept([one record]) per list in ``records``."""

    async def produce(mine: list[DeviceRecord]) -> None:
        for record in mine:
            await outbox.accept([record])

    path = directory / f"ours-{len(records)}-{id(records)}.db"
    async with running_outbox(path) as outbox:
        with Stopwatch() as watch:
            async with asyncio.TaskGroup() as group:
                for mine in records:
                    group.create_task(produce(mine))
    return rate(sum(map(len, records)), watch.seconds)


async def fresh_producers(directory: Path, producers: int, per_producer: int) -> float:
    """``ours`` with new records: one timed repeat."""
    return await ours(directory, producer_records(producers, per_producer))


def run(sizes: Sizes, record: Recorder) -> None:
    """Measure the two limits, then accept with 1, 10, 100 and 1,000 producers."""
    reps = sizes.repeats
    with scratch(NAME) as directory:
        per_row = sizes.pick(2_000, 300)
        batched = sizes.pick(100_000, 10_000)
        record.limit(
            "raw-1",
            "raw sqlite3, one transaction per row",
            "rows/s",
            repeat_sync(reps, lambda: raw_insert(directory, per_row, 1)),
            "One fsync per row: the ceiling for a producer that must wait for its own record.",
        )
        record.limit(
            "raw-1000",
            "raw sqlite3, executemany, 1,000 rows/transaction",
            "rows/s",
            repeat_sync(reps, lambda: raw_insert(directory, batched, 1000)),
            "Fsyncs amortised over 1,000 rows: the ceiling for durable writes here.",
        )
        cases = (
            (1, sizes.pick(1_500, 200), "raw-1"),
            (10, sizes.pick(600, 100), "raw-1"),
            (100, sizes.pick(300, 40), "raw-1000"),
            (1000, sizes.pick(60, 5), "raw-1000"),
        )
        for producers, per_producer, against in cases:
            once = functools.partial(fresh_producers, directory, producers, per_producer)
            samples = asyncio.run(repeat_async(reps, once))
            key = f"accept-{producers}"
            goal = Goal(value=40_000) if producers >= 100 else None
            record.ours(
                key,
                f"Outbox.accept, {producers} concurrent producer(s)",
                "records/s",
                samples,
                against=against,
                why=_WHY[producers],
                goal=goal,
                row="e" if producers >= 100 else "",
            )
            if sizes.profile and goal and not goal.met(statistics.median(samples)):
                # The outbox runs in this process (see SUMMARY): py-spy samples the bench itself,
                # once the records exist (making them is the bench's work, not the outbox's).
                records = producer_records(producers, per_producer)
                with sampling(os.getpid(), directory / f"{key}.pyspy.txt") as taken:
                    asyncio.run(ours(directory, records))
                record.profiled(key, taken.top)


_WHY: Final = {
    1: "A lone producer waits for its own fsync, so it is bound by the same one-fsync-per-row ceiling; "
    "on top, each group also looks up and inserts its dedup keys and bumps the sequence counter, and "
    "hops to the writer's thread and back.",
    10: "Ten producers share each commit (group commit), so one fsync carries up to ten records: "
    "above the one-transaction-per-row ceiling.",
    100: "A hundred producers fill groups of a hundred records per fsync (one thread hop per group). "
    "The limit inserts into the events table only; each accepted punch also inserts its dedup key, "
    "a B-tree insert at a random place, so a group of 100 dirties ≈ 45 more pages than the events "
    "alone: ≈ 4.8 KB written per record (WAL and checkpoints) against ≈ 1.3 KB without the dedup "
    "insert, and about twice the kernel time. The rest is per-record Python: a future and a task "
    "wake-up per accept, JSON encoding, the row and its UUIDv7.",
    1000: "A thousand producers (a burst from many devices at once): the largest groups per fsync; "
    "the per-record asyncio and JSON work and the dedup inserts set the pace.",
}
