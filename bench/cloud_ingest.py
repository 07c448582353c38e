"""Cloud ingest: batches of 100 punches through the real ingest path vs a raw ``executemany`` insert.

Ours is ``cloud.ingest.handling.handle_message`` (what the MQTT worker calls per message): decode
and split the batch, find the agent, skip known event ids, resolve each PIN to a member, insert the
punches, score each first check-in of a member's day (ledger entry + period balances) and commit.
Every punch here is such a first check-in: the morning burst, the heaviest case. The limit inserts the
same punch rows (members already resolved, no scoring) with the database driver alone, one
transaction per batch of 100.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sqlite3
from collections.abc import Iterator
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from bench.cloud_db import MEMBERS, Tenant, backends, database_url, seeded
from bench.measure import Sizes, Stopwatch, rate, repeat_async
from bench.recorder import Recorder
from bench.workdir import scratch
from cloud.db.session import create_engine, session_factory
from cloud.ingest.handling import handle_message
from edge_agent.ids import uuid7_str
from firmware_protocols import sync

NAME: Final = "cloud_ingest"
TITLE: Final = "cloud ingest of 100-punch batches vs raw executemany insert"
SUMMARY: Final = (
    "Batches of 100 punches from 1,000 members, each punch the first check-in of its member's day "
    "(every punch earns a ledger entry and updates three period balances), through "
    "`cloud.ingest.handling.handle_message` into a migrated database, one commit per batch. Limit: "
    "the same rows inserted with the raw driver's `executemany` (sqlite3 / asyncpg), one transaction "
    "per batch. SQLite always; PostgreSQL when `MPM_TEST_POSTGRES_URL` is set."
)
PER_BATCH: Final = 100
_counter = itertools.count(0)
_COLUMNS: Final = (
    "org_id, agent_pk, event_id, seq, device, pin, member_id, occurred_at, device_time, received_at, "
    "ingested_at, verify_mode, state, dedup_key"
)
_BASE_DAY: Final = dt.datetime(2026, 1, 1, 0, 50, tzinfo=dt.UTC)  # 08:50 in Shanghai: on time


def punch_events(count: int) -> Iterator[sync.Event]:
    """Punches that are each the first check-in of a (member, day) never seen before in this run."""
    now = dt.datetime.now(dt.UTC)
    for _ in range(count):
        n = next(_counter)
        pin = str(1 + n % MEMBERS)
        at = _BASE_DAY + dt.timedelta(days=n // MEMBERS, seconds=n % 60)
        data = sync.Punch(
            pin=pin,
            verify_mode=sync.VerifyMode.FINGERPRINT,
            verify_code="1",
            state=sync.PunchState.CHECK_IN,
            state_code="0",
            dedup_key=f"CKUX0001|{pin}|{at.isoformat()}|0",
        ).to_data()
        yield sync.Event(
            id=uuid7_str(),
            seq=n + 1,
            kind="punch",
            device="zk-lobby",
            occurred_at=at,
            device_time=at.strftime("%Y-%m-%d %H:%M:%S"),
            received_at=now,
            data=data,
        )


def batch_payloads(batches: int) -> list[bytes]:
    return [
        sync.encode(sync.EventBatch(batch_id=uuid7_str(), events=tuple(punch_events(PER_BATCH))))
        for _ in range(batches)
    ]


def punch_rows(tenant: Tenant, batches: int) -> list[list[tuple[Any, ...]]]:
    """The attendance_punch rows of ``batches`` new batches, members resolved (as ours stores them)."""
    now = dt.datetime.now(dt.UTC)
    out = []
    for _ in range(batches):
        out.append(
            [
                (
                    tenant.org_id,
                    tenant.agent_pk,
                    e.id,
                    e.seq,
                    e.device,
                    e.data["pin"],
                    tenant.member_ids[e.data["pin"]],
                    e.occurred_at,
                    e.device_time,
                    e.received_at,
                    now,
                    e.data["verify_mode"],
                    e.data["state"],
                    e.data["dedup_key"],
                )
                for e in punch_events(PER_BATCH)
            ]
        )
    return out


async def ours(tenant: Tenant, batches: int) -> float:
    """Punches/s through handle_message, one batch (one commit) after another."""
    payloads = batch_payloads(batches)
    topic = sync.topic("bench-site", sync.Channel.EVENTS)
    engine = create_engine(tenant.url)
    sessions = session_factory(engine)
    try:
        with Stopwatch() as watch:
            for payload in payloads:
                outcome = await handle_message(sessions, topic, payload)
                if outcome.ack is None or len(outcome.ack.event_ids) != PER_BATCH:
                    raise AssertionError("a batch was not acked in full")
    finally:
        await engine.dispose()
    return rate(batches * PER_BATCH, watch.seconds)


async def raw_sqlite(tenant: Tenant, batches: int) -> float:
    """Rows/s: sqlite3 executemany of each batch's rows in its own transaction (WAL, foreign keys)."""
    rows = [[tuple(_sqlite_value(v) for v in row) for row in batch] for batch in punch_rows(tenant, batches)]
    conn = sqlite3.connect(make_url(tenant.url).database or "", isolation_level=None)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000"):
        conn.execute(pragma)
    sql = f"INSERT INTO attendance_punch ({_COLUMNS}) VALUES ({', '.join('?' * 14)})"
    try:
        with Stopwatch() as watch:
            for batch in rows:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")
    finally:
        conn.close()
    return rate(batches * PER_BATCH, watch.seconds)


def _sqlite_value(value: object) -> object:
    # SQLAlchemy's SQLite DateTime storage format (naive UTC text).
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


async def raw_postgres(tenant: Tenant, batches: int) -> float:
    """Rows/s: asyncpg executemany of each batch's rows in its own transaction."""
    rows = punch_rows(tenant, batches)
    url = make_url(tenant.url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
    )
    params = ", ".join(f"${i}" for i in range(1, 15))
    sql = f"INSERT INTO attendance_punch ({_COLUMNS}) VALUES ({params})"
    try:
        with Stopwatch() as watch:
            for batch in rows:
                async with conn.transaction():
                    await conn.executemany(sql, batch)
    finally:
        await conn.close()
    return rate(batches * PER_BATCH, watch.seconds)


async def _measure(backend: str, sizes: Sizes, record: Recorder) -> None:
    batches = sizes.pick(5, 1)
    raw_batches = sizes.pick(200, 20)
    with scratch(f"{NAME}-{backend}") as directory:
        async with database_url(backend, directory) as url:
            tenant = await seeded(url)
            raw = raw_sqlite if backend == "sqlite" else raw_postgres
            limit = await repeat_async(sizes.repeats, lambda: raw(tenant, raw_batches))
            why = "One transaction per 100 rows, the members already resolved, nothing scored."
            record.limit(
                f"raw-{backend}", f"{backend}: raw executemany, 100 rows/transaction", "punches/s", limit, why
            )
            samples = await repeat_async(sizes.repeats, lambda: ours(tenant, batches))
            record.ours(
                backend,
                f"{backend}: handle_message, 100-punch batches",
                "punches/s",
                samples,
                against=f"raw-{backend}",
                why=WHY_OURS,
            )


def run(sizes: Sizes, record: Recorder) -> None:
    """SQLite, then PostgreSQL when configured."""
    for backend in backends():
        asyncio.run(_measure(backend, sizes, record))


WHY_OURS: Final = (
    "Per punch the ORM path awaits a handful of statements in turn (member by PIN, attendance rule, "
    "idempotency key, point rule, ledger insert with a flush, period balance upserts), each a "
    "round trip through SQLAlchemy's async layer and the driver's thread: the per-punch statements, "
    "not the database, set the pace. It is still far above a site's punch rate (a morning burst is "
    "a few hundred punches over minutes); batching the lookups per batch is the lever if it matters."
)
