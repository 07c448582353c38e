"""One group commit: the records of many concurrent ``accept`` calls in one transaction.

The caller (``Outbox``'s writer task) opens the transaction, calls ``commit_group`` and commits.
Rules applied here, per caller, in arrival order:

1. Dedup: a record whose ``(device, dedup_key)`` is in the dedup table (or earlier in this group)
   is a duplicate: counted, not stored.
2. Byte cap: a caller's must-keep records (everything but the keep-latest kinds) are admitted whole
   or not at all. If they do not fit, the oldest keep-latest rows are shed (counted); if they still
   do not fit, that caller gets ``OutboxFull`` and nothing of it is stored or marked seen.
   Keep-latest records that do not fit are dropped and counted.
3. Drops are counted in ``drops`` in the same transaction, and the not-yet-reported ones are turned
   into one ``loss_report`` event right away (it is small, so it may overshoot the cap by a row).
4. Every stored record gets a UUIDv7 and the next ``seq`` from ``counters`` (never reused).

It runs on the writer's own thread (``sqlite_thread.py``) as one plain function: BEGIN to COMMIT
in one hop. Per-record work is kept small: one clock read per group (``received_at`` and the
dedup ``seen_at`` are the group's commit time), ids drawn for the whole group at once, data
encoded by one prebuilt compact encoder (key order as the driver gave it: nothing sorts).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from edge_agent.ids import uuid7_strs
from edge_agent.outbox.rows import (
    AGENT_DEVICE,
    SHEDDABLE_KINDS,
    EventRow,
    encode_data,
    estimated_bytes,
    is_sheddable,
    iso,
    to_row,
)
from edge_agent.outbox.stats import wal_bytes
from edge_agent.records import AcceptResult, DeviceRecord
from firmware_protocols.sync import EventKind, LossReport


class OutboxFull(Exception):
    """The byte cap is reached and these records may not be dropped; keep them on the device."""


SHED_SCAN_ROWS: Final = 500

# One query per device in the group (usually one): a flat array of keys is cheap for json_each.
_KNOWN_SQL: Final = "SELECT key FROM dedup WHERE device = ? AND key IN (SELECT value FROM json_each(?))"
_INSERT_EVENT_SQL: Final = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_DEDUP_SQL: Final = "INSERT OR REPLACE INTO dedup(device, key, seen_at) VALUES (?, ?, ?)"
_COUNT_DROP_SQL: Final = (
    "INSERT INTO drops(kind, total, unreported) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET "
    "total = total + excluded.total, unreported = unreported + excluded.unreported"
)
_SHED_CANDIDATES_SQL: Final = (
    "SELECT seq, kind, length(data) FROM events WHERE kind IN (SELECT value FROM json_each(?)) "
    "ORDER BY seq LIMIT ?"
)

Outcome = AcceptResult | OutboxFull
DedupPair = tuple[str, str]


def used_bytes(conn: sqlite3.Connection, db_path: Path) -> int:
    """Bytes in use: live pages (free pages are reused) plus the WAL file."""
    pages, page_size = conn.execute(
        "SELECT page_count - freelist_count, page_size FROM pragma_page_count, "
        "pragma_freelist_count, pragma_page_size"
    ).fetchone()
    return int(pages) * int(page_size) + wal_bytes(db_path)


@dataclasses.dataclass
class _Group:
    conn: sqlite3.Connection
    room: int
    known: set[DedupPair]
    stored: list[tuple[DeviceRecord, str]] = dataclasses.field(default_factory=list)
    new_keys: list[DedupPair] = dataclasses.field(default_factory=list)
    drops: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def admit(self, records: Sequence[DeviceRecord]) -> Outcome:
        fresh, duplicates = self._split_fresh(records)
        keep: list[tuple[DeviceRecord, str]] = []
        sheddable: list[DeviceRecord] = []
        need = 0
        for record in fresh:  # one pass, no per-record generators: this runs for every record
            if is_sheddable(record):
                sheddable.append(record)
                continue
            data = encode_data(record)
            keep.append((record, data))
            need += estimated_bytes(data)
        if need > self.room:
            self.room += self._shed_existing(need - self.room)
        if need > self.room:
            return OutboxFull(f"outbox is full: {len(keep)} record(s) refused, keep them on the device")
        self.room -= need
        self.stored.extend(keep)
        stored = len(keep) + (self._admit_sheddable(sheddable) if sheddable else 0)
        self._remember(fresh)
        return AcceptResult(stored=stored, duplicates=duplicates)

    def _split_fresh(self, records: Sequence[DeviceRecord]) -> tuple[Sequence[DeviceRecord], int]:
        if len(records) == 1:  # the common call (one punch): no set for duplicates within the call
            (record,) = records
            key = record.dedup_key
            duplicate = key is not None and (record.device, key) in self.known
            return ((), 1) if duplicate else (records, 0)
        fresh: list[DeviceRecord] = []
        seen_here: set[DedupPair] = set()
        for record in records:
            pair = None if record.dedup_key is None else (record.device, record.dedup_key)
            if pair is not None and (pair in self.known or pair in seen_here):
                continue
            if pair is not None:
                seen_here.add(pair)
            fresh.append(record)
        return fresh, len(records) - len(fresh)

    def _admit_sheddable(self, records: list[DeviceRecord]) -> int:
        admitted = 0
        for record in records:
            data = encode_data(record)
            cost = estimated_bytes(data)
            if cost > self.room:
                self.drops[str(record.kind)] += 1
                continue
            self.room -= cost
            self.stored.append((record, data))
            admitted += 1
        return admitted

    def _remember(self, records: Sequence[DeviceRecord]) -> None:
        for record in records:
            if record.dedup_key is not None:
                pair = (record.device, record.dedup_key)
                self.known.add(pair)
                self.new_keys.append(pair)

    def _shed_existing(self, need: int) -> int:
        """Delete the oldest keep-latest rows until about ``need`` bytes are free; return bytes freed."""
        params = (json.dumps(sorted(SHEDDABLE_KINDS)), SHED_SCAN_ROWS)
        freed, victims = 0, []
        for seq, kind, length in self.conn.execute(_SHED_CANDIDATES_SQL, params):
            if freed >= need:
                break
            victims.append(int(seq))
            freed += int(length) + estimated_bytes("")
            self.drops[str(kind)] += 1
        if victims:
            self.conn.execute(
                "DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?))", (json.dumps(victims),)
            )
        return freed


def write_group(
    conn: sqlite3.Connection, db_path: Path, max_bytes: int, batches: Sequence[Sequence[DeviceRecord]]
) -> list[Outcome]:
    """One transaction for the whole group: BEGIN IMMEDIATE, ``commit_group``, COMMIT (or ROLLBACK)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        outcomes = commit_group(conn, db_path, max_bytes, batches)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
            conn.execute("ROLLBACK")
        raise
    return outcomes


def commit_group(
    conn: sqlite3.Connection, db_path: Path, max_bytes: int, batches: Sequence[Sequence[DeviceRecord]]
) -> list[Outcome]:
    """Apply every caller's records inside the caller's open transaction; return one outcome each."""
    pairs = {(r.device, r.dedup_key) for batch in batches for r in batch if r.dedup_key is not None}
    group = _Group(conn=conn, room=max_bytes - used_bytes(conn, db_path), known=_known(conn, pairs))
    outcomes = [group.admit(batch) for batch in batches]
    now = dt.datetime.now(dt.UTC)
    _count_drops(conn, group.drops)
    loss = _loss_report(conn, now)
    records = [*group.stored, *([loss] if loss else [])]
    _insert(conn, records, iso(now))
    seen_at = now.timestamp()
    conn.executemany(_INSERT_DEDUP_SQL, [(d, k, seen_at) for d, k in group.new_keys])
    return outcomes


def _known(conn: sqlite3.Connection, pairs: set[DedupPair]) -> set[DedupPair]:
    keys_by_device: dict[str, list[str]] = collections.defaultdict(list)
    for device, key in pairs:
        keys_by_device[device].append(key)
    known: set[DedupPair] = set()
    for device, keys in keys_by_device.items():
        rows = conn.execute(_KNOWN_SQL, (device, json.dumps(keys)))
        known.update((device, str(key)) for (key,) in rows)
    return known


def _count_drops(conn: sqlite3.Connection, drops: collections.Counter[str]) -> None:
    if drops:
        conn.executemany(_COUNT_DROP_SQL, [(kind, n, n) for kind, n in sorted(drops.items())])


def _loss_report(conn: sqlite3.Connection, now: dt.datetime) -> tuple[DeviceRecord, str] | None:
    """Turn every unreported drop into one ``loss_report`` record and mark the drops reported."""
    rows = conn.execute("SELECT kind, unreported FROM drops WHERE unreported > 0").fetchall()
    by_kind = {str(kind): int(n) for kind, n in rows}
    if not by_kind:
        return None
    conn.execute("UPDATE drops SET unreported = 0 WHERE unreported > 0")
    report = LossReport(dropped_total=sum(by_kind.values()), dropped_by_kind=by_kind)
    record = DeviceRecord(
        kind=EventKind.LOSS_REPORT,
        device=AGENT_DEVICE,
        occurred_at=now,
        device_time="",
        data=report.to_data(),
    )
    return record, encode_data(record)


def _insert(conn: sqlite3.Connection, records: list[tuple[DeviceRecord, str]], received_at: str) -> None:
    if not records:
        return
    (first,) = conn.execute("SELECT value FROM counters WHERE name = 'next_seq'").fetchone()
    ids = uuid7_strs(len(records))
    rows: list[EventRow] = [
        to_row(record, seq=first + i, event_id=ids[i], received_at=received_at, data=data)
        for i, (record, data) in enumerate(records)
    ]
    conn.executemany(_INSERT_EVENT_SQL, rows)
    conn.execute("UPDATE counters SET value = ? WHERE name = 'next_seq'", (first + len(rows),))
