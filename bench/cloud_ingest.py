"""The cloud as a real ``mpm-cloud serve`` process behind Mosquitto: rows a and b of issue 10, and
two ingest workers against one.

a. Ingest of first check-ins: the bench publishes 100-punch batches on the agent's events topic,
   keeping a few unacked, for a time window; punches/s from the first publish to the last ack.
   Limit: the same punch rows inserted with the raw driver's ``executemany`` (sqlite3 / asyncpg), one
   transaction per 100 rows, members already resolved, nothing scored.
b. A backlog after an outage: a real agent starts on a pre-filled outbox and drains it into the
   real cloud; the time from its launch to the last ack, for 1M events (drained for real with
   ``--full-backlog``, else measured over a window and extrapolated, as the line says).
Two workers (PostgreSQL only): a second ``mpm-cloud serve`` in the same shared subscription group;
the same feed, the total and per-worker rates, and a duplicate check on the punches stored.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Final

from bench import ingest_load, mqtt_probe
from bench.agent_drain import Drain, DrainSetup, drain
from bench.cloud_db import AGENT_ID, Tenant, backends, connect, prepared
from bench.measure import Goal, Sizes, repeat_async
from bench.processes import cloud_env, cpu_seconds, start_cloud
from bench.profiling import Profile, sampling
from bench.recorder import Recorder
from bench.workdir import scratch
from tests.e2e.processes import ProcessGroup, process_group
from tests.support.broker import running_broker

NAME: Final = "cloud_ingest"
TITLE: Final = "cloud ingest and backlog drain through a real mpm-cloud process"
SUMMARY: Final = (
    "A real `mpm-cloud serve` (SQLite; PostgreSQL with `--postgres-url`) consumes from Mosquitto on "
    "loopback. Ingest: the bench publishes 100-punch batches of first check-ins (each earns a ledger "
    "entry and balance updates), 4 unacked at a time, for a time window, and times the first publish "
    "to the last ack. Limit: the same rows through the raw driver's `executemany`. Backlog: a real "
    "`mpm-agent run` on a pre-filled outbox drains into the cloud; launch to last ack."
)
ONE_MILLION: Final = 1_000_000
INGEST_GOAL: Final = {"sqlite": 5_000.0, "postgresql": 10_000.0}
BACKLOG_GOAL_S: Final = {"sqlite": 60.0, "postgresql": 90.0}


def run(sizes: Sizes, record: Recorder) -> None:
    """SQLite, then PostgreSQL when a server was given."""
    for backend in backends():
        with (
            scratch(f"{NAME}-{backend}") as directory,
            running_broker(directory) as broker,
            prepared(backend, directory) as tenant,
            process_group(directory / "logs") as group,
        ):
            env = cloud_env(tenant.url, broker.url)
            start_cloud(group, env)
            setup = DrainSetup(group=group, directory=directory, broker_port=broker.port)
            one = _ingest(backend, sizes, record, setup, tenant)
            _backlog(backend, sizes, record, setup)
            if backend == "postgresql":
                start_cloud(group, env, name="cloud-2")
                _two_workers(sizes, record, setup, tenant, one)


def _ingest(backend: str, sizes: Sizes, record: Recorder, setup: DrainSetup, tenant: Tenant) -> float:
    """Row a: the raw limit, then the cloud process fed for a window per repeat; returns the median."""
    raw = ingest_load.raw_sqlite if backend == "sqlite" else ingest_load.raw_postgres
    raw_batches = sizes.pick(200, 20)
    limit = asyncio.run(repeat_async(sizes.repeats, lambda: raw(tenant, raw_batches)))
    why = "One transaction per 100 rows, the members already resolved, nothing scored."
    record.limit(
        f"raw-{backend}", f"{backend}: raw executemany, 100 rows/transaction", "punches/s", limit, why
    )
    if backend == "postgresql":
        copy = asyncio.run(
            repeat_async(sizes.repeats, lambda: ingest_load.raw_postgres_copy(tenant, raw_batches))
        )
        label = "postgresql: raw COPY, 100 rows/transaction"
        record.limit("raw-postgresql-copy", label, "punches/s", copy, "The same rows through asyncpg's COPY.")
    samples = tuple(_feed_once(sizes, setup) for _ in range(sizes.repeats))
    goal = Goal(value=INGEST_GOAL[backend])
    label = f"{backend}: mpm-cloud serve, first check-ins via MQTT"
    why = WHY_INGEST + (WHY_INGEST_POSTGRES if backend == "postgresql" else WHY_INGEST_SQLITE)
    record.ours(backend, label, "punches/s", samples, against=f"raw-{backend}", why=why, goal=goal, row="a")
    if sizes.profile and not goal.met(statistics.median(samples)):
        with sampling(_pid(setup.group, "cloud"), setup.directory / "ingest.pyspy.txt") as taken:
            _feed_once(sizes, setup)
        record.profiled(backend, taken.top)
    return statistics.median(samples)


def _feed_once(sizes: Sizes, setup: DrainSetup, ahead: int = ingest_load.AHEAD) -> float:
    payloads = ingest_load.batch_payloads(sizes.pick(600, 10 if not sizes.smoke else 3))
    window = sizes.seconds(15.0, 4.0, smoke=1.0)
    with (
        mqtt_probe.watching(setup.broker_port, AGENT_ID) as probe,
        mqtt_probe.publishing(setup.broker_port, "bench-feeder") as publisher,
    ):
        return ingest_load.feed(publisher, probe, payloads, window, ahead)


def _backlog(backend: str, sizes: Sizes, record: Recorder, setup: DrainSetup) -> None:
    """Row b: a real agent drains a pre-filled outbox into the cloud; 1M figure measured or projected."""
    rows = ONE_MILLION if sizes.full_backlog else sizes.pick(50_000, 2_000 if not sizes.smoke else 300)
    window = 3600.0 if sizes.full_backlog else sizes.seconds(30.0, 15.0)
    repeats = 1 if sizes.full_backlog else sizes.repeats
    drains = [drain(setup, f"backlog-{backend}-{i}", rows, window) for i in range(repeats)]
    goal = Goal(value=BACKLOG_GOAL_S[backend], higher_is_better=False)
    seconds = tuple(d.seconds_for(ONE_MILLION) for d in drains)
    measured = all(d.complete and d.events == ONE_MILLION for d in drains)
    how = "measured" if measured else f"projected from {_drained(drains)}"
    label = f"{backend}: 1M-event backlog, agent launch → last ack ({how.split(' ')[0]})"
    why = f"{WHY_BACKLOG} This figure is {how}."
    record.ours(f"backlog-{backend}", label, "s", seconds, against=None, why=why, goal=goal, row="b")
    rates = tuple(d.rate for d in drains)
    record.ours(f"backlog-rate-{backend}", f"{backend}: backlog drain rate", "events/s", rates, against=None)
    if sizes.profile and not goal.met(statistics.median(seconds)):
        profile = Profile()
        cloud = _pid(setup.group, "cloud")
        drain(setup, f"backlog-{backend}-profiled", rows, window, profile=profile, profile_pid=cloud)
        record.profiled(f"backlog-{backend}", profile.top)


def _two_workers(sizes: Sizes, record: Recorder, setup: DrainSetup, tenant: Tenant, one: float) -> None:
    """Two cloud processes in one shared subscription: total and per-worker rate, duplicates counted."""
    workers = [_pid(setup.group, "cloud"), _pid(setup.group, "cloud-2")]
    before = [cpu_seconds(pid) for pid in workers]
    samples = tuple(_feed_once(sizes, setup, ahead=2 * ingest_load.AHEAD) for _ in range(sizes.repeats))
    used = [cpu_seconds(pid) - start for pid, start in zip(workers, before, strict=True)]
    total = statistics.median(samples)
    stored, distinct = asyncio.run(_punch_counts(tenant.url))
    why = (
        f"Two `mpm-cloud serve` processes share `$share/ingest/...` on one PostgreSQL; the same feed "
        f"as one worker ({one:,.0f} punches/s): ×{total / max(one, 1e-9):.2f}. Punches stored "
        f"{stored:,}, distinct event ids {distinct:,}: {stored - distinct} duplicated. CPU used by "
        f"each worker during the feeds: {used[0]:.1f} s and {used[1]:.1f} s (both consuming)."
    )
    label = "postgresql: two ingest workers, total"
    record.ours("two-workers", label, "punches/s", samples, against=None, why=why)
    per_worker = tuple(sample / 2 for sample in samples)
    record.ours(
        "per-worker", "postgresql: two ingest workers, per worker", "punches/s", per_worker, against=None
    )


async def _punch_counts(url: str) -> tuple[int, int]:
    conn = await connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT (agent_pk, event_id)) FROM attendance_punch"
        )
        return int(row[0]), int(row[1])
    finally:
        await conn.close()


def _pid(group: ProcessGroup, name: str) -> int:
    return group.children[name].pid


def _drained(drains: list[Drain]) -> str:
    acked = sum(d.acked for d in drains) // len(drains)
    return f"draining {acked:,} of {drains[0].events:,} events in a window (rate after the first ack)"


WHY_INGEST: Final = (
    "Through the broker and the real worker: decode, split, resolve members, insert punches, decide "
    "attendance, score, write the ledger and balances, commit, then publish the ack. Batches that "
    "queue in the agent's lane while one commits go together as one run: one transaction, one set "
    "pass when that equals storing them in turn."
)
WHY_INGEST_SQLITE: Final = (
    " On SQLite most of the time is SQLite's own work on aiosqlite's thread (the profile below names "
    "it): every check-in inserts a punch, a ledger entry and six period balances, random inserts "
    "into about a dozen B-tree indexes. Measured in process after 80,000 check-ins, per run of two "
    "100-punch batches (≈ 58 ms): the balance upsert 6.1 ms (1,200 period rows), the ledger insert "
    "5.6 ms, the punch insert 4.2 ms, the eight lookups ≈ 4 ms together; the rest is the commit "
    "and Python (SQLAlchemy's per-row parameter processing, scoring). WAL checkpoints run in the "
    "background, not in the commit (`cloud.db.wal_checkpoints`: +16% in process at two batches a "
    "run, +4% at eight). Larger runs share the index pages: 16 batches a run reached 7,900 "
    "punches/s in process, 2 batches 5,300."
)
WHY_INGEST_POSTGRES: Final = (
    " On PostgreSQL a batch is about a dozen statements, each one round trip (the punches and ledger "
    "rows as column arrays, one statement whatever the size). The lookups of what the agent stored "
    "and of the days' standing entries probe an index key by key (`bind_lists.key_rows`), whatever "
    "the statistics say: this server runs without autovacuum, and planned on never-gathered "
    "statistics the `IN` form read every row of the agent (8–10 ms a lookup at 35,000 punches, "
    "growing with the table; 1,550 punches/s here before). Measured in process per run of two "
    "100-punch batches (≈ 50 ms): the balance upsert ≈ 19 ms (1,200 period rows, every update a new "
    "entry in three indexes since `points` is in the ranking index; without the surrogate `id` "
    "key 11% less), the punch and ledger inserts ≈ 6.5 ms each (foreign-key checks included), "
    "every lookup ≈ 1 ms. In the process, asyncpg encoding arrays and decoding rows holds the CPU "
    "(the profile below)."
)
WHY_BACKLOG: Final = (
    "The agent's start-up, then its link feeding the cloud as fast as the cloud acks; the cloud's "
    "per-batch ingest sets the pace."
)
