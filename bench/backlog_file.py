"""A pre-filled agent outbox: the backlog an agent holds after an outage.

The file is created by the agent's own ``Outbox`` (so its schema and migrations are today's), then
filled with raw ``executemany`` in transactions of 10,000 rows, naming the columns so a newer
schema with extra defaulted columns still fills. Every call makes new event ids, so a cloud that
already stored an earlier backlog scores this one afresh instead of acking duplicates.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Final

from bench.records import event_rows
from edge_agent.outbox import Outbox

CHUNK: Final = 10_000
_INSERT: Final = (
    "INSERT INTO events (seq, id, kind, device, occurred_at, device_time, received_at, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def write_backlog(path: Path, rows: int, *, progress: bool = False) -> None:
    """An outbox at ``path`` holding ``rows`` unsent punches (and the matching ``next_seq``)."""
    asyncio.run(_create(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        for at in range(0, rows, CHUNK):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, event_rows(min(CHUNK, rows - at), first_seq=at + 1))
            conn.execute("COMMIT")
            if progress and at and at % (10 * CHUNK) == 0:
                print(f"   writing the backlog: {at:,}/{rows:,} rows", file=sys.stderr, flush=True)
        conn.execute("UPDATE counters SET value = ? WHERE name = 'next_seq'", (rows + 1,))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def unsent(path: Path) -> int:
    """Rows still in the outbox (read beside the running agent: WAL lets a reader in)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


async def _create(path: Path) -> None:
    async with Outbox(path):
        pass
