"""Rankings top-100 of 100,000 members from a real ``mpm-cloud serve``, driven from outside: row c.

Both servers run in their own process: the cloud as ``mpm-cloud serve`` (one worker, SQLite), the
limit as a FastAPI route under the same ``uvicorn.run`` call that returns the very bytes of the
cloud's answer. Max req/s is driven by ``wrk`` (1 thread, 8 connections, keep-alive); the p99 at
about 100 req/s offered by ``bench.paced_load``, an open-loop generator in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
from sqlalchemy import insert, select

from bench.cloud_db import Tenant, prepared
from bench.measure import Goal, Sizes
from bench.processes import cloud_env, start_cloud
from bench.profiling import sampling
from bench.recorder import Recorder
from bench.workdir import scratch
from cloud.db.models import Balance, PointType
from cloud.db.session import create_engine, session_factory
from tests.e2e.processes import process_group
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

NAME: Final = "rankings"
TITLE: Final = "GET /api/v1/rankings top-100 of 100,000 members vs a trivial route, driven by wrk"
SUMMARY: Final = (
    "Top 100 of 100,000 members' monthly balances from a real `mpm-cloud serve` (one uvicorn worker, "
    "SQLite), each server in its own process on loopback. Max req/s: `wrk -t1 -c8` with keep-alive. "
    "Latency: `bench.paced_load` offers 100 req/s open-loop (latency from each request's scheduled "
    "time). Limit: a FastAPI route under the same uvicorn returning the same bytes pre-serialised."
)
MONTH: Final = dt.datetime.now(dt.UTC).strftime("%Y-%m")
PATH: Final = f"/api/v1/rankings?point_type=A&period=month&key={MONTH}&limit=100"
OFFERED: Final = 100.0
_RPS: Final = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX: Final = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def wrk() -> str:
    """The wrk binary; installed with apt-get when missing and we are root (the bench says so)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("   wrk is missing: apt-get install -y wrk", file=sys.stderr, flush=True)
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, capture_output=True).returncode != 0:  # no package lists yet
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            subprocess.run(install, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise RuntimeError("the rankings bench needs wrk: apt-get install -y wrk")
    return found


def wrk_rate(url: str, token: str, seconds: float, errors: list[int]) -> float:
    """Requests/s that wrk reaches (1 thread, 8 connections); non-2xx answers appended to ``errors``."""
    command = [
        wrk(),
        "-t1",
        "-c8",
        f"-d{max(1, round(seconds))}s",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    failed = _NON_2XX.search(done.stdout)
    errors.append(int(failed[1]) if failed else 0)
    found = _RPS.search(done.stdout)
    if not found:
        raise RuntimeError(f"no Requests/sec in wrk's output: {done.stdout[-400:]}")
    return float(found[1])


def paced_p99(url: str, token: str, seconds: float) -> dict[str, float]:
    """``bench.paced_load`` at OFFERED req/s: its JSON (p50/p95/p99 in ms, errors = non-200 answers)."""
    command = [sys.executable, "-m", "bench.paced_load", "--url", url, "--rate", str(OFFERED)]
    command += ["--seconds", str(seconds), "--header", f"Authorization: Bearer {token}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120)
    result: dict[str, float] = json.loads(done.stdout)
    return result


async def add_balances(tenant: Tenant) -> None:
    """Monthly balances for every member, spread over 5,000 point values (ties included)."""
    engine = create_engine(tenant.url)
    try:
        async with session_factory(engine)() as session:
            point_type = select(PointType.id).where(PointType.org_id == tenant.org_id, PointType.code == "A")
            pt_id = int((await session.execute(point_type)).scalar_one())
            rows = [
                {"org_id": tenant.org_id, "member_id": member_id, "point_type_id": pt_id}
                | {"period_kind": "month", "period_key": MONTH, "points": (member_id * 7919) % 5000}
                for member_id in tenant.member_ids.values()
            ]
            for at in range(0, len(rows), 5000):
                await session.execute(insert(Balance), rows[at : at + 5000])
            await session.commit()
    finally:
        await engine.dispose()


@contextlib.contextmanager
def trivial_server(body: Path) -> Iterator[str]:
    """``bench.ranking_server`` returning ``body`` at the same path; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "bench.ranking_server", "--port", str(port), "--body", str(body)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: accepts_tcp("127.0.0.1", port) or process.poll() is not None, timeout=30, what="uvicorn"
        )
        if process.poll() is not None:
            raise RuntimeError("the trivial server exited at start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(sizes: Sizes, record: Recorder) -> None:
    """Seed 100,000 members, start both servers, measure the limits then ours."""
    members = sizes.pick(100_000, 10_000 if not sizes.smoke else 1_000)
    seconds = sizes.seconds(5.0, 2.0, smoke=1.0)
    with (
        scratch(NAME) as directory,
        prepared("sqlite", directory, members=members) as tenant,
        process_group(directory / "logs") as group,
    ):
        asyncio.run(add_balances(tenant))
        api = start_cloud(group, cloud_env(tenant.url, None))
        url = api.removesuffix("/api/v1") + PATH
        body = httpx.get(url, headers={"Authorization": f"Bearer {tenant.token}"}, timeout=60).content
        if body.count(b'"rank"') != 100:
            raise AssertionError(f"the ranking did not return 100 rows: {body[:200]!r}")
        (directory / "body.json").write_bytes(body)
        with trivial_server(directory / "body.json") as trivial:
            limit = tuple(wrk_rate(trivial + PATH, tenant.token, seconds, []) for _ in range(sizes.repeats))
            record.limit(
                "trivial", f"trivial route, same {len(body):,} bytes: wrk", "req/s", limit, WHY_LIMIT
            )
            paced = [paced_p99(trivial + PATH, tenant.token, seconds) for _ in range(sizes.repeats)]
            record.limit("trivial-p99", "trivial route: p99 at 100 req/s offered", "ms", _p(paced, "p99"))
        failed: list[int] = []
        samples = tuple(wrk_rate(url, tenant.token, seconds, failed) for _ in range(sizes.repeats))
        goal = Goal(value=2_000)
        label = f"rankings top-100 of {members:,}: wrk"
        why = f"{WHY_OURS} Non-2xx answers per repeat: {failed}."
        record.ours("api", label, "req/s", samples, against="trivial", why=why, goal=goal, row="c")
        ours = [paced_p99(url, tenant.token, seconds) for _ in range(sizes.repeats)]
        p99_goal = Goal(value=10, higher_is_better=False)
        why = (
            f"p50 {_p(ours, 'p50')} ms, p95 {_p(ours, 'p95')} ms, non-200 answers {_p(ours, 'errors')}, "
            f"unanswered at the cut-off {_p(ours, 'unanswered')} per repeat. {WHY_PACED}"
        )
        label = f"rankings top-100 of {members:,}: p99 at 100 req/s offered"
        record.ours(
            "api-p99", label, "ms", _p(ours, "p99"), against="trivial-p99", why=why, goal=p99_goal, row="c"
        )
        if sizes.profile and not (goal.met(sorted(samples)[len(samples) // 2])):
            with sampling(group.children["cloud"].pid, directory / "rankings.pyspy.txt") as taken:
                wrk_rate(url, tenant.token, seconds, [])
            record.profiled("api", taken.top)


def _p(results: list[dict[str, float]], name: str) -> tuple[float, ...]:
    return tuple(round(result[name], 2) for result in results)


WHY_LIMIT: Final = (
    "uvicorn as `mpm-cloud serve` runs it, FastAPI routing, the bytes pre-serialised: the framework "
    "and loopback ceiling, with wrk taking one of the two cores."
)
WHY_OURS: Final = (
    "Each request authenticates a bearer token, reads the point type and the top 100 balances joined "
    "to members, computes ranks (ties) and serialises the response model."
)
WHY_PACED: Final = (
    "Open loop: one request every 10 ms whatever the answers, latency from the scheduled time, so a "
    "server slower than 10 ms a request queues and the p99 shows it. Requests still unanswered 10 s "
    "after the last was sent count with their latency so far: then the p99 is a lower bound."
)
