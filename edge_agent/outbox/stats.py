"""Outbox statistics, readable by the running agent and, read-only, by ``mpm-agent status``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from edge_agent.outbox.rows import parse_iso
from firmware_protocols.sync import SyncProtocolError, decode_display

COUNT_SQL: Final = "SELECT count(*) FROM events"
OLDEST_SQL: Final = "SELECT received_at FROM events ORDER BY seq LIMIT 1"
PAGES_SQL: Final = (
    "SELECT page_count, page_size, freelist_count "
    "FROM pragma_page_count, pragma_page_size, pragma_freelist_count"
)
DROPS_SQL: Final = "SELECT kind, total FROM drops ORDER BY kind"
DISPLAY_SQL: Final = "SELECT value FROM latest WHERE name = 'display'"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OutboxStats:
    """Backlog and storage figures; ``bytes`` is page_count × page_size plus the WAL file."""

    backlog_rows: int
    bytes: int
    oldest_unacked_age_s: float | None
    dropped_by_kind: Mapping[str, int]
    full: bool = False
    last_display_version: int | None = None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped_by_kind.values())

    def to_json(self) -> dict[str, object]:
        return {
            "backlog_rows": self.backlog_rows,
            "bytes": self.bytes,
            "oldest_unacked_age_s": self.oldest_unacked_age_s,
            "dropped_total": self.dropped_total,
            "dropped_by_kind": dict(self.dropped_by_kind),
            "full": self.full,
            "last_display_version": self.last_display_version,
        }


def wal_bytes(db_path: Path) -> int:
    try:
        return os.stat(f"{db_path}-wal").st_size
    except FileNotFoundError:
        return 0


def age_seconds(received_at: str | None, now: dt.datetime) -> float | None:
    if received_at is None:
        return None
    return max(0.0, (now - parse_iso(received_at)).total_seconds())


def display_version(value: bytes | None) -> int | None:
    if value is None:
        return None
    try:
        return decode_display(bytes(value)).version
    except SyncProtocolError:
        return None


def read_stats(db_path: Path, *, max_bytes: int | None = None) -> OutboxStats:
    """Open the outbox read-only (safe while the agent runs) and compute its statistics."""
    if not db_path.exists():
        raise FileNotFoundError(f"no outbox database at {db_path}")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        # The agent creates the file, then its schema (one transaction that also sets user_version):
        # a reader in between finds no tables. That is "no outbox yet", not an error.
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version == 0:
            raise FileNotFoundError(f"the outbox database at {db_path} is not initialised yet")
        stats = collect(conn, db_path, full=False)
    finally:
        conn.close()
    return dataclasses.replace(stats, full=max_bytes is not None and stats.bytes >= max_bytes)


def collect(conn: sqlite3.Connection, db_path: Path, *, full: bool) -> OutboxStats:
    """Backlog rows and bytes, age of the oldest unacked event, drops by kind, read on ``conn``."""
    (rows,) = conn.execute(COUNT_SQL).fetchone()
    oldest = conn.execute(OLDEST_SQL).fetchone()
    pages, page_size, _free = conn.execute(PAGES_SQL).fetchone()
    drops = {str(kind): int(total) for kind, total in conn.execute(DROPS_SQL)}
    display = conn.execute(DISPLAY_SQL).fetchone()
    return OutboxStats(
        backlog_rows=int(rows),
        bytes=int(pages) * int(page_size) + wal_bytes(db_path),
        oldest_unacked_age_s=age_seconds(oldest[0] if oldest else None, dt.datetime.now(dt.UTC)),
        dropped_by_kind=drops,
        full=full,
        last_display_version=display_version(display[0] if display else None),
    )
