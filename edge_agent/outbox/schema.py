"""The outbox's SQLite schema, versioned with ``PRAGMA user_version``.

Tables and the rules they carry:

- ``events``: one row per unacked event. ``seq`` is the rowid (the B-tree every claim walks in
  order), ``id`` a UUIDv7 with a UNIQUE index (time-ordered, so inserts append). A row is deleted
  only when the cloud acks its id; there is no "sent" flag (DESIGN: a sent flag decays dequeue from
  100,000 to 12,000 rows/s as sent rows pile up). Claims are leases held in memory.
- ``counters``: ``next_seq`` lives here, not in ``MAX(seq)``, so a sequence number is never reused,
  even after every row was acked and deleted.
- ``dedup``: ``(device, dedup_key)`` pairs seen, kept after the event is acked (pruned by age).
- ``drops``: rows shed under the byte cap, by kind: ``total`` for ever, ``unreported`` until a
  ``loss_report`` event carrying them is committed.
- ``latest``: keep-latest values by name (the last display content).
- ``tombstones`` (v2): PINs the cloud ordered erased (PRIVACY.md DEL-2). A tombstone outlives the
  erase: a device that reports the PIN again gets it deleted again. Only ``user_upsert`` of the same
  PIN lifts it (the organisation re-enrolled that person on purpose).
"""

from __future__ import annotations

import sqlite3
from typing import Final

SCHEMA_VERSION: Final = 2

PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)

DDL_V1: Final = """
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    device      TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    device_time TEXT NOT NULL,
    received_at TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE UNIQUE INDEX events_id ON events(id);
CREATE INDEX events_kind ON events(kind, seq);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters(name, value) VALUES ('next_seq', 1);
CREATE TABLE dedup (
    device  TEXT NOT NULL,
    key     TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (device, key)
) WITHOUT ROWID;
CREATE INDEX dedup_seen_at ON dedup(seen_at);
CREATE TABLE drops (
    kind       TEXT PRIMARY KEY,
    total      INTEGER NOT NULL,
    unreported INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE latest (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
"""

DDL_V2: Final = """
CREATE TABLE tombstones (
    pin       TEXT PRIMARY KEY,
    erased_at REAL NOT NULL
) WITHOUT ROWID;
"""

MIGRATIONS: Final = {1: DDL_V1, 2: DDL_V2}


class SchemaError(Exception):
    """The database was written by a newer agent (its schema version is unknown here)."""


def prepare(conn: sqlite3.Connection, *, wal_pages: int) -> None:
    """Set the pragmas and bring the schema up to ``SCHEMA_VERSION``."""
    for pragma in PRAGMAS:
        conn.execute(pragma)
    # Keep the WAL small relative to the byte cap: checkpoint often, truncate when it resets.
    conn.execute(f"PRAGMA wal_autocheckpoint={int(wal_pages)}")
    conn.execute(f"PRAGMA journal_size_limit={int(wal_pages) * 4096}")
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise SchemaError(f"outbox schema version {current} is newer than this agent's {SCHEMA_VERSION}")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        conn.executescript(f"BEGIN;\n{MIGRATIONS[version]}\nPRAGMA user_version={version};\nCOMMIT;")
