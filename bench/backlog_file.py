"""A pre-filled agent outbox: the backlog an agent holds after an outage.

The backlog is written through the agent's own ``Outbox.accept`` in groups of 10,000 records (one
transaction each), so its schema, ids and encoding are exactly what today's agent writes and the
bench follows any change to them. The punches are a site's ordinary days (``site_day_record``: every
member in and out once a day), and every call continues that history with new days, so a cloud
that stored an earlier backlog scores this one afresh instead of acking duplicates.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Final

from bench.records import site_day_record
from edge_agent.outbox import running_outbox

CHUNK: Final = 10_000
_history = itertools.count()  # punch number in the site's history: every backlog continues it
MAX_BYTES: Final = 4 * 1024**3  # a 1M backlog is ≈440 MB: far from the agent's default cap of 512 MiB


def write_backlog(path: Path, rows: int, *, progress: bool = False) -> None:
    """An outbox at ``path`` holding ``rows`` unsent punches."""
    asyncio.run(_fill(path, rows, progress))


async def _fill(path: Path, rows: int, progress: bool) -> None:
    async with running_outbox(path, max_bytes=MAX_BYTES) as outbox:
        for at in range(0, rows, CHUNK):
            records = [site_day_record(next(_history)) for _ in range(min(CHUNK, rows - at))]
            result = await outbox.accept(records)
            if result.stored != len(records):
                raise RuntimeError(f"the outbox stored {result.stored} of {len(records)} backlog records")
            if progress and at and at % (10 * CHUNK) == 0:
                print(f"   writing the backlog: {at:,}/{rows:,} events", file=sys.stderr, flush=True)


def copy_backlog(template: Path, target: Path) -> None:
    """A copy of a closed outbox file (its WAL and shared memory too, where they were left)."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template}{suffix}")
        if source.exists():
            shutil.copyfile(source, Path(f"{target}{suffix}"))


def unsent(path: Path) -> int:
    """Rows still in the outbox (read beside the running agent: WAL lets a reader in)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()
