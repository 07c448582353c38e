"""Load for the cloud ingest benches: batches of first check-ins, the raw-driver limit, and a feeder
that keeps the cloud busy for a time window.

Every punch made here is the first check-in of a (member, day) never seen before in the run: the
morning burst, the heaviest case (each earns a ledger entry and updates the period balances).
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import time
from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy.engine import make_url

from bench import mqtt_probe
from bench.cloud_db import AGENT_ID, MEMBERS, Tenant, connect
from bench.measure import Stopwatch, rate
from edge_agent.ids import uuid7_str
from firmware_protocols import sync

PER_BATCH: Final = 100
AHEAD: Final = 4  # batches published and not yet acked: the cloud is never idle, the tail stays short
FEED_TIMEOUT_S: Final = 600.0
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
    conn = await connect(tenant.url)
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


async def raw_postgres_copy(tenant: Tenant, batches: int) -> float:
    """Rows/s: asyncpg COPY of each batch's rows in its own transaction."""
    rows = punch_rows(tenant, batches)
    conn = await connect(tenant.url)
    columns = [name.strip() for name in _COLUMNS.split(",")]
    try:
        with Stopwatch() as watch:
            for batch in rows:
                async with conn.transaction():
                    await conn.copy_records_to_table("attendance_punch", records=batch, columns=columns)
    finally:
        await conn.close()
    return rate(batches * PER_BATCH, watch.seconds)


def feed(
    publisher: mqtt_probe.Publisher,
    probe: mqtt_probe.Probe,
    payloads: list[bytes],
    window_s: float,
    ahead: int = AHEAD,
) -> float:
    """Punches/s: publish batches while the window is open, keeping ``ahead`` batches unacked, then
    wait for the last ack. Timed from the first publish to the last ack, so every batch counts whole."""
    topic = sync.topic(AGENT_ID, sync.Channel.EVENTS)
    base = probe.acked
    sent = 0
    start = time.time()
    while sent < len(payloads) and time.time() - start < window_s:
        while sent < len(payloads) and sent - (probe.acked - base) // PER_BATCH < ahead:
            publisher.publish(topic, payloads[sent])
            sent += 1
        probe.wait_acked(base + (sent - ahead + 1) * PER_BATCH, 0.05)
    if not probe.wait_acked(base + sent * PER_BATCH, FEED_TIMEOUT_S):
        raise TimeoutError(f"{probe.acked - base} of {sent * PER_BATCH} punches acked")
    return rate(sent * PER_BATCH, probe.acks[-1][0] - start)
