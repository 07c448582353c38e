"""The durable outbox: group-committed ``accept``, leased ``claim_batch``, ``ack`` deletes.

Two connections, each on its own thread (``sqlite_thread.py``: one hop per unit of work, not
per statement): the writer (every write; a group commit is one function, BEGIN to COMMIT) and a
reader (claims and stats; WAL lets it read committed data while the writer works).
``accept`` only queues; the writer task (``run_writer``) takes everything queued at that moment
as one group, commits it in one transaction (``synchronous=FULL``: fsynced) and only then resolves
each caller's future. A claim is a lease held in memory for ``lease_s``: a batch not
acked in time becomes claimable again, and after a restart every unacked row is due at once.
``ack`` tells the ``on_acked`` listeners which device records the cloud now holds (``acks.py``), so
a driver can clear a device's own log; ``tombstones`` are the PINs erased on the cloud's order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection, Container, Iterable, Sequence, Set
from pathlib import Path
from typing import Any, Final

from edge_agent.outbox import acks
from edge_agent.outbox import stats as st
from edge_agent.outbox.rows import EVENT_COLUMNS, EventRow, to_event
from edge_agent.outbox.schema import prepare
from edge_agent.outbox.sqlite_thread import SqliteThread
from edge_agent.outbox.writer import OutboxFull, write_group
from edge_agent.records import AcceptResult, DeviceRecord
from firmware_protocols.sync import Event
from firmware_protocols.sync.fast import row_bytes

log = logging.getLogger(__name__)

MAX_GROUP_CALLERS: Final = 1000
DEDUP_RETENTION_S: Final = 30 * 86400.0
DEDUP_PRUNE_EVERY_S: Final = 3600.0


class OutboxClosed(Exception):
    """The outbox's writer is not running; nothing can be accepted."""


class _Pending:
    __slots__ = ("future", "records")

    def __init__(self, records: Sequence[DeviceRecord], future: asyncio.Future[AcceptResult]) -> None:
        self.records, self.future = records, future


class Outbox:
    """``async with Outbox(path) as outbox`` opens it; ``run_writer()`` must run for ``accept``."""

    def __init__(self, path: Path, *, max_bytes: int = 512 * 1024 * 1024, lease_s: float = 10.0) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.lease_s = lease_s
        self.transactions = 0  # group commits done (tests count them)
        self.full = False
        # accept() appends and sets _work; the writer takes everything queued as one group. A plain
        # deque, not asyncio.Queue: two queue operations per record were ≈ 6% of the accept path.
        self._queued: collections.deque[_Pending] = collections.deque()
        self._work = asyncio.Event()
        self._stop_asked = False
        self._leases: dict[str, float] = {}
        # Every row with seq ≤ _claimed_up_to is leased or acked, so a claim reads on from there
        # instead of re-reading the in-flight rows (up to 4,000 at 4 batches of 1,000). Set back
        # to 0 (read from the start) whenever a lease ends without an ack: release or expiry.
        # Leased rows past it are possible (after such a reset) and only shorten a claim.
        self._claimed_up_to = 0
        self._lease_losses = 0  # counts releases and expiries (a claim checks none happened)
        # Ids acked while a claim's read was in flight: that read may predate the delete, so it can
        # still return them. Cleared when a claim starts (its read then follows every finished ack).
        self._acked_during_claim: set[str] = set()
        self._listeners: list[Callable[[], None]] = []
        self._ack_listeners: list[acks.AckListener] = []
        self._tombstones: set[str] = set()
        self._accepting = False
        self._last_prune = 0.0
        self._wconn: SqliteThread | None = None
        self._rconn: SqliteThread | None = None

    async def __aenter__(self) -> Outbox:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)  # ENC-4: the file is readable by the service user only
        self._wconn = await SqliteThread.open(self.path, "outbox-writer")
        wal_pages = max(16, min(1000, self.max_bytes // 4096 // 16))
        await self._wconn.run(prepare, wal_pages=wal_pages)
        self._rconn = await SqliteThread.open(self.path, "outbox-reader")
        await self._rconn.run(_execute, "PRAGMA busy_timeout=5000")
        await self.prune_dedup()
        rows = await self._rconn.run(_fetch_all, "SELECT pin FROM tombstones")
        self._tombstones = {str(row[0]) for row in rows}
        self._accepting = True  # queued records wait for run_writer
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._accepting = False
        self._fail_queued()
        for conn in (self._rconn, self._wconn):
            if conn is not None:
                await conn.close()
        self._rconn = self._wconn = None

    @property
    def _writer(self) -> SqliteThread:
        if self._wconn is None:
            raise OutboxClosed("the outbox is not open")
        return self._wconn

    @property
    def _reader(self) -> SqliteThread:
        if self._rconn is None:
            raise OutboxClosed("the outbox is not open")
        return self._rconn

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every commit that may have added events."""
        self._listeners.append(listener)

    def on_acked(self, listener: acks.AckListener) -> None:
        """Call ``listener(device, dedup_keys)`` after every ack that deleted that device's events."""
        self._ack_listeners.append(listener)

    # -- accept / group commit ---------------------------------------------------------------

    async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
        """Store ``records`` durably (EventSink); returns after the group's commit, or raises OutboxFull."""
        if not records:
            return AcceptResult(stored=0, duplicates=0)
        if not self._accepting:
            raise OutboxClosed("the outbox is closed or its writer has stopped")
        future: asyncio.Future[AcceptResult] = asyncio.get_running_loop().create_future()
        self._queued.append(_Pending(list(records), future))
        self._work.set()
        return await future

    async def run_writer(self) -> None:
        """The group-commit writer; on cancel or ``stop_writer`` it commits what is queued, then ends."""
        try:
            while await self._write_next_group():
                pass
        except asyncio.CancelledError:
            self._accepting = False
            while self._queued:
                await self._write_next_group()
            raise
        finally:
            self._accepting = False
            self._fail_queued()

    def stop_writer(self) -> None:
        """Ask the writer to finish what is queued and return."""
        self._accepting = False
        self._stop_asked = True
        self._work.set()

    async def _write_next_group(self) -> bool:
        """Commit the callers queued now (up to ``MAX_GROUP_CALLERS``); False once asked to stop and done."""
        while not self._queued and not self._stop_asked:
            self._work.clear()
            await self._work.wait()
        group = self._take_group()
        if group:
            task = asyncio.ensure_future(self._commit(group))
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                await task  # a started transaction always finishes and resolves its callers
                raise
        return not (self._stop_asked and not self._queued)

    def _take_group(self) -> list[_Pending]:
        queued = self._queued
        if len(queued) <= MAX_GROUP_CALLERS:
            group = list(queued)
            queued.clear()
            return group
        return [queued.popleft() for _ in range(MAX_GROUP_CALLERS)]

    async def _commit(self, group: list[_Pending]) -> None:
        batches = [p.records for p in group]
        try:
            outcomes = await self._writer.run(write_group, self.path, self.max_bytes, batches)
        except Exception as exc:
            if _disk_full(exc):  # the filesystem is smaller than the cap: same back-pressure
                self._set_full(True)
                exc = OutboxFull(f"the outbox's disk is full: {exc}")
            else:
                log.exception("outbox commit failed; %d caller(s) get the error", len(group))
            for pending in group:
                _resolve(pending.future, exc)
            return
        self.transactions += 1
        self._set_full(any(isinstance(o, OutboxFull) for o in outcomes))
        for pending, outcome in zip(group, outcomes, strict=True):
            _resolve(pending.future, outcome)
        self._notify()
        await self._maybe_prune()

    def _set_full(self, full: bool) -> None:
        if full and not self.full:
            log.error(
                "ALARM outbox full (cap %d bytes): refusing attendance records; devices keep them",
                self.max_bytes,
            )
        elif self.full and not full:
            log.warning("outbox accepts records again")
        self.full = full

    def _fail_queued(self) -> None:
        while self._queued:
            _resolve(self._queued.popleft().future, OutboxClosed("the outbox writer stopped"))

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    # -- claim / ack -------------------------------------------------------------------------

    async def claim_batch(self, limit: int) -> list[Event]:
        """Lease up to ``limit`` unacked, unleased events in seq order, as contract ``Event``s."""
        return [to_event(row) for row in await self.claim_rows(limit)]

    async def claim_rows(self, limit: int, *, max_bytes: int | None = None) -> list[EventRow]:
        """Lease up to ``limit`` unacked, unleased rows in seq order, stopping at ``max_bytes``.

        ``max_bytes`` bounds the batch payload (``row_bytes`` estimates); the first row is always
        taken, so one oversized row cannot stall the outbox.
        """
        now = time.monotonic()
        live = {i: until for i, until in self._leases.items() if until > now}
        if len(live) < len(self._leases):
            self._lost_leases()  # expired: those rows are due again
        self._leases = live
        self._acked_during_claim.clear()
        start, losses = self._claimed_up_to, self._lease_losses
        read = await self._read_unleased(start, limit, losses)
        leased, acked = self._leases, self._acked_during_claim
        claimed = [row for row in read if row[1] not in leased and row[1] not in acked][:limit]
        if max_bytes is not None:
            claimed = _within_bytes(claimed, max_bytes)
        until = now + self.lease_s
        self._leases.update(dict.fromkeys([row[1] for row in claimed], until))
        if self._lease_losses == losses:  # no release or expiry while reading
            self._claimed_up_to = _taken_prefix_end(read, start, self._leases, acked)
        return claimed

    async def _read_unleased(self, after: int, limit: int, losses: int) -> list[EventRow]:
        """Rows in seq order after ``after`` until ``limit`` of them are unleased (or none are left).

        From the start, one read of ``limit`` + in-flight rows suffices. Reading on from
        ``_claimed_up_to``, leased rows past it (left by a release) can fill a window: read on.
        """
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        want = limit if after else limit + len(self._leases)
        read: list[EventRow] = []
        while True:
            rows: list[EventRow] = await self._reader.run(_fetch_all, sql, (after, want))
            read += rows
            leased, acked = self._leases, self._acked_during_claim
            unleased = sum(1 for row in read if row[1] not in leased and row[1] not in acked)
            if unleased >= limit or len(rows) < want or self._lease_losses != losses:
                return read
            after, want = rows[-1][0], limit

    def release(self, event_ids: Iterable[str]) -> None:
        """End the leases of ``event_ids`` now (their batch is lost, e.g. on disconnect)."""
        for event_id in event_ids:
            if self._leases.pop(event_id, None) is not None:
                self._lost_leases()

    def _lost_leases(self) -> None:
        """Leased rows are due again: the next claim reads from the start."""
        self._claimed_up_to = 0
        self._lease_losses += 1

    async def ack(self, event_ids: Collection[str]) -> int:
        """Delete exactly the rows with these ids (the cloud committed them); return how many."""
        if not event_ids:
            return 0
        try:
            deleted, acked = await self._writer.run(
                acks.delete_acked, event_ids, want_keys=bool(self._ack_listeners)
            )
        except sqlite3.Error as exc:
            if not _disk_full(exc):
                raise
            # Even a DELETE needs WAL pages. The rows stay (leased) and are sent again later; the
            # cloud acks them again, idempotently. Crashing here would only start a restart loop.
            log.error("outbox: the disk is full; %d acked row(s) stay until space is freed", len(event_ids))
            return 0
        for event_id in event_ids:  # gone for good: no need to read from the start again
            self._leases.pop(event_id, None)
        self._acked_during_claim.update(event_ids)
        acks.notify(self._ack_listeners, acked)
        return deleted

    async def pending_keys(self, device: str, keys: Collection[str]) -> set[str]:
        """The dedup keys among ``keys`` not yet acked for ``device`` (never accepted, or unacked)."""
        return await self._reader.run(acks.pending_keys, device, keys)

    async def is_known(self, device: str, dedup_key: str) -> bool:
        """Whether ``(device, dedup_key)`` was accepted before (and not yet pruned)."""
        sql = "SELECT 1 FROM dedup WHERE device = ? AND key = ?"
        return bool(await self._reader.run(_fetch_all, sql, (device, dedup_key)))

    async def prune_dedup(self, *, older_than_s: float = DEDUP_RETENTION_S) -> int:
        """Forget dedup keys older than ``older_than_s``."""
        cutoff = time.time() - older_than_s
        deleted = await self._writer.run(_execute, "DELETE FROM dedup WHERE seen_at < ?", (cutoff,))
        self._last_prune = time.monotonic()
        return deleted

    async def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune > DEDUP_PRUNE_EVERY_S:
            await self.prune_dedup()

    # -- tombstones (PRIVACY.md DEL-2) -------------------------------------------------------

    @property
    def tombstones(self) -> Set[str]:
        """The erased PINs, a live read-only view (drivers check it on every user they see)."""
        return self._tombstones

    async def add_tombstone(self, pin: str) -> None:
        """Durably remember that ``pin`` was erased."""
        sql = "INSERT OR REPLACE INTO tombstones(pin, erased_at) VALUES (?, ?)"
        await self._writer.run(_execute, sql, (pin, time.time()))
        self._tombstones.add(pin)

    async def lift_tombstone(self, pin: str) -> None:
        """Forget the erasure of ``pin`` (the person was enrolled again on purpose)."""
        await self._writer.run(_execute, "DELETE FROM tombstones WHERE pin = ?", (pin,))
        self._tombstones.discard(pin)

    # -- keep-latest values and statistics ---------------------------------------------------

    async def save_latest(self, name: str, value: bytes) -> None:
        """Durably keep ``value`` as the latest of ``name`` (replacing the previous one)."""
        sql = "INSERT OR REPLACE INTO latest(name, value, updated_at) VALUES (?, ?, ?)"
        await self._writer.run(_execute, sql, (name, value, time.time()))

    async def load_latest(self, name: str) -> bytes | None:
        rows = await self._reader.run(_fetch_all, "SELECT value FROM latest WHERE name = ?", (name,))
        return bytes(rows[0][0]) if rows else None

    async def stats(self) -> st.OutboxStats:
        """Backlog rows and bytes, age of the oldest unacked event, drops by kind."""
        return await self._reader.run(st.collect, self.path, full=self.full)


def _taken_prefix_end(rows: list[EventRow], after: int, leased: Container[str], acked: Container[str]) -> int:
    """The seq up to which every row read (in seq order, after ``after``) is leased or acked."""
    end = after
    for row in rows:
        if row[1] not in leased and row[1] not in acked:
            break
        end = row[0]
    return end


def _within_bytes(rows: list[EventRow], max_bytes: int) -> list[EventRow]:
    """The longest prefix of ``rows`` whose estimated payload fits ``max_bytes`` (at least one row)."""
    total = 0
    for n, row in enumerate(rows):
        total += row_bytes(row)
        if total > max_bytes and n > 0:
            return rows[:n]
    return rows


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[object] = ()) -> int:
    """Run one statement on the connection's thread; its row count."""
    return conn.execute(sql, params).rowcount


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[object] = ()) -> list[Any]:
    """Run one query on the connection's thread; all its rows."""
    return conn.execute(sql, params).fetchall()


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's SQLITE_FULL (the disk, not our byte cap, ran out)."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _resolve(future: asyncio.Future[AcceptResult], outcome: AcceptResult | BaseException) -> None:
    if future.done():
        return  # the caller went away (cancelled); the records are committed all the same
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


@contextlib.asynccontextmanager
async def running_outbox(
    path: Path, *, max_bytes: int = 512 * 1024 * 1024, lease_s: float = 10.0
) -> AsyncIterator[Outbox]:
    """An open outbox with its writer task running (for tools and tests)."""
    async with Outbox(path, max_bytes=max_bytes, lease_s=lease_s) as outbox:
        writer = asyncio.create_task(outbox.run_writer(), name="outbox-writer")
        try:
            yield outbox
        finally:
            outbox.stop_writer()
            await writer
