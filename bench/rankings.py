"""Ranking API: ``GET /api/v1/rankings`` top-100 over HTTP vs a trivial endpoint with the same bytes.

Both servers run under uvicorn in their own process on loopback (as ``mpm-cloud serve`` runs the
app); the client is one ``httpx.AsyncClient`` with 8 requests in flight over keep-alive. The real
request authenticates a bearer token, reads the organisation's point type and the top 100 of 1,000
balances, and serialises a response model. The limit serves the very bytes of that response from a
FastAPI route that does nothing else: the framework and client ceiling on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
from sqlalchemy import select

from bench.cloud_db import Tenant, database_url, seeded
from bench.measure import Sizes, Stopwatch, rate, repeat_async
from bench.recorder import Recorder
from bench.workdir import scratch
from cloud.db.models import Balance, PointType
from cloud.db.session import create_engine, session_factory
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

NAME: Final = "rankings"
TITLE: Final = "GET /api/v1/rankings top-100 vs a trivial endpoint returning the same bytes"
SUMMARY: Final = (
    "Requests/s for the top 100 of 1,000 members' monthly balances, through httpx (8 in flight, "
    "keep-alive) against uvicorn on loopback, each server in its own process (SQLite). Limit: a "
    "FastAPI route under the same uvicorn that returns the same response bytes pre-serialised."
)
IN_FLIGHT: Final = 8
MONTH: Final = dt.datetime.now(dt.UTC).strftime("%Y-%m")
QUERY: Final = f"/api/v1/rankings?point_type=A&period=month&key={MONTH}&limit=100"


async def add_balances(tenant: Tenant) -> None:
    """Monthly balances for every member, all different points."""
    engine = create_engine(tenant.url)
    try:
        async with session_factory(engine)() as session:
            point_type = select(PointType.id).where(PointType.org_id == tenant.org_id, PointType.code == "A")
            pt_id = int((await session.execute(point_type)).scalar_one())
            session.add_all(
                Balance(
                    org_id=tenant.org_id,
                    member_id=member_id,
                    point_type_id=pt_id,
                    period_kind="month",
                    period_key=MONTH,
                    points=(member_id * 7919) % 5000,
                )
                for member_id in tenant.member_ids.values()
            )
            await session.commit()
    finally:
        await engine.dispose()


@contextlib.contextmanager
def server(*args: str) -> Iterator[str]:
    """A ranking_server process on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "bench.ranking_server", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(
            lambda: accepts_tcp("127.0.0.1", port) or process.poll() is not None, timeout=30, what="uvicorn"
        )
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def load(base_url: str, token: str, requests: int) -> float:
    """Requests/s: ``requests`` GETs of the top 100 with IN_FLIGHT in flight; every answer must be 200."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        await _get(client)  # warm the connection pool and the server's caches

        async def worker(count: int) -> None:
            for _ in range(count):
                await _get(client)

        with Stopwatch() as watch:
            async with asyncio.TaskGroup() as group:
                for i in range(IN_FLIGHT):
                    group.create_task(worker(requests // IN_FLIGHT + (i < requests % IN_FLIGHT)))
    return rate(requests, watch.seconds)


async def _get(client: httpx.AsyncClient) -> bytes:
    response = await client.get(QUERY)
    if response.status_code != 200:
        raise AssertionError(f"{response.status_code}: {response.text[:200]}")
    return response.content


async def _measure(sizes: Sizes, record: Recorder, directory: Path) -> None:
    requests = sizes.pick(600, 100)
    async with database_url("sqlite", directory) as url:
        tenant = await seeded(url)
        await add_balances(tenant)
        with server("--mode", "app", "--db", url) as base:
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {tenant.token}"}
            ) as c:
                body = await _get(c)
            if body.count(b'"rank"') != 100:
                raise AssertionError("the ranking did not return 100 rows")
            (directory / "body.json").write_bytes(body)
            with server("--mode", "trivial", "--body", str(directory / "body.json")) as trivial:
                limit = await repeat_async(sizes.repeats, lambda: load(trivial, tenant.token, requests))
            record.limit(
                "trivial", f"trivial FastAPI route, same {len(body):,} bytes", "req/s", limit, WHY_LIMIT
            )
            samples = await repeat_async(sizes.repeats, lambda: load(base, tenant.token, requests))
            record.ours(
                "api",
                "GET /api/v1/rankings top-100 (SQLite)",
                "req/s",
                samples,
                against="trivial",
                why=WHY_OURS,
            )


def run(sizes: Sizes, record: Recorder) -> None:
    """Seed, start both servers, measure the limit then ours."""
    with scratch(NAME) as directory:
        asyncio.run(_measure(sizes, record, directory))


WHY_LIMIT: Final = (
    "uvicorn (plain asyncio + h11: uvloop/httptools are not installed) plus FastAPI routing, "
    "driven by one httpx client process: on 2 cores the client costs about as much as the server."
)
WHY_OURS: Final = (
    "Each request also opens a session, looks up the bearer token (hash + select), the point type "
    "and the top 100 balances joined to members (three statements through SQLAlchemy async and "
    "aiosqlite's thread), then validates and serialises a response model of 100 rows."
)
