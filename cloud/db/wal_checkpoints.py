"""SQLite: WAL checkpoints in the background, not inside a writer's commit.

Why: by default SQLite checkpoints from the COMMIT that takes the WAL past 1,000 pages. That commit,
still holding the write lock, then copies the WAL's pages into the database file and fsyncs it.
Ingest rewrites the same hot pages (balances, the ends of indexes) commit after commit, about 130
WAL pages per 200 check-ins, so a checkpoint every few commits copies them again and again.
Measured in process on SQLite: ingest ran 16 % faster checkpointing every 20,000 pages instead
(runs of two 100-punch batches), 4 % with runs of eight.

Rules:
- Writers checkpoint by themselves only past ``SAFETY_PAGES`` (``session.py`` sets it on every
  connection): the bound on the WAL for a process that runs no checkpointer (the CLI tools), or
  when this one falls behind.
- ``mpm-cloud serve`` runs ``checkpoint_periodically``: every ``interval_s`` a PASSIVE checkpoint on
  a connection of its own, in a thread. PASSIVE never waits for readers or the writer: it copies
  what no open snapshot still needs, and the first write after a complete copy restarts the WAL.
- After that restart SQLite truncates the WAL file to ``WAL_FILE_LIMIT_BYTES``: a burst does not
  leave a large file behind.
- A failed checkpoint (disk full, I/O error, a locked database) is counted and logged, and tried
  again at the next interval: it never stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

SAFETY_PAGES: Final = 20_000  # ≈ 80 MiB of WAL with 4 KiB pages
WAL_FILE_LIMIT_BYTES: Final = 16 * 1024 * 1024
INTERVAL_S: Final = 1.0
_BUSY_TIMEOUT_S: Final = 5.0  # only to open the connection: PASSIVE itself never waits


@dataclasses.dataclass(slots=True)
class CheckpointStats:
    """What the background checkpointer has done since the service started."""

    checkpoints: int = 0
    wal_pages: int = 0  # the WAL's length at the last checkpoint (it restarts once all is copied)
    failures: int = 0
    last_error: str | None = None


def database_file(url: URL) -> Path | None:
    """The SQLite file behind ``url``; None for other engines and in-memory databases."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def checkpoint_once(path: Path) -> int:
    """One PASSIVE checkpoint of ``path``; the pages in its WAL (all copied unless a reader held some).

    Opened read-write, never created: a database that is gone is an error, not a new empty file."""
    uri = f"{path.resolve().as_uri()}?mode=rw"
    with contextlib.closing(
        sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    ) as conn:
        _busy, wal_pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(wal_pages)


async def checkpoint_periodically(path: Path, stats: CheckpointStats, interval_s: float = INTERVAL_S) -> None:
    """Checkpoint ``path`` every ``interval_s`` until cancelled (the module's rules)."""
    while True:
        await asyncio.sleep(interval_s)  # a period, not a wait for an event
        try:
            wal_pages = await asyncio.to_thread(checkpoint_once, path)
        except sqlite3.Error as exc:
            stats.failures += 1
            stats.last_error = str(exc)
            log.warning("WAL checkpoint of %s failed (%s); trying again in %.0f s", path, exc, interval_s)
            continue
        stats.checkpoints += 1
        stats.wal_pages = wal_pages
