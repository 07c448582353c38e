"""A write that cannot get the database in time answers 503 + Retry-After, stores nothing, and the
same call repeated with its Idempotency-Key afterwards succeeds once (SQLite: another connection holds
the write lock past busy_timeout; the real lock of a real database file, no mock)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cloud.app import create_app
from cloud.settings import CloudSettings
from tests.cloud.factories import member, tenant


@pytest.fixture
async def sqlite_app(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, Path]]:
    path = tmp_path / "cloud.db"
    application = create_app(CloudSettings(database_url=f"sqlite+aiosqlite:///{path}", mqtt_url=None))
    async with application.router.lifespan_context(application):
        yield application, path


async def test_a_write_locked_out_answers_503_then_the_retry_stores_it_once(
    sqlite_app: tuple[FastAPI, Path],
) -> None:
    app, path = sqlite_app
    async with app.state.sessions() as session:
        acme = await tenant(session)
        alice = await member(session, acme.org_id, "Alice")
        await session.commit()
    headers = {"Authorization": f"Bearer {acme.token}", "Idempotency-Key": "busy-1"}
    award = {"member_id": alice.id, "point_type": "A", "points": 3, "reason": "busy test"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test", timeout=60) as client:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # the write lock, held past the cloud's busy_timeout
            busy = await client.post("/api/v1/ledger-entries", json=award, headers=headers)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "1"
        assert "nothing was stored" in busy.json()["detail"]
        entries = await client.get("/api/v1/ledger-entries", headers=headers)
        assert entries.json() == []  # control for the retry below: the 503 stored nothing
        retried = await client.post("/api/v1/ledger-entries", json=award, headers=headers)
        assert retried.status_code == 201, retried.text
        again = await client.post("/api/v1/ledger-entries", json=award, headers=headers)
        assert again.json() == retried.json()  # the key still makes it one entry
        assert len((await client.get("/api/v1/ledger-entries", headers=headers)).json()) == 1
