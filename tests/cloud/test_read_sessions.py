"""Reads never queue behind a writer: GET routes and token look-ups use read-only sessions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cloud.app import create_app
from cloud.settings import CloudSettings
from tests.cloud.test_api import auth, make_tenant


@pytest.fixture
async def sqlite_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The app on SQLite alone: PostgreSQL readers never wait for writers anyway."""
    application = create_app(CloudSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"))
    async with application.router.lifespan_context(application):
        yield application


async def test_a_get_completes_while_a_write_transaction_is_held(sqlite_app: FastAPI, tmp_path: Path) -> None:
    app = sqlite_app
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cloud.test")
    t = await make_tenant(app, "Acme")
    path = tmp_path / "c.db"
    # The app's start-up work (scheduler, fleet round, roster upkeep) takes the write lock too: wait
    # for it, up to a generous bound, rather than fail at sqlite3's default of 5 s on a loaded box.
    writer = sqlite3.connect(path, isolation_level=None, timeout=60)
    writer.execute("BEGIN IMMEDIATE")  # holds SQLite's one write lock until the rollback below
    writer.execute("UPDATE organisation SET name = 'held' WHERE id = ?", (t.org_id,))
    try:
        # Control 1: the lock is real; any BEGIN IMMEDIATE elsewhere fails or waits.
        probe = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("BEGIN IMMEDIATE")
        probe.close()
        # The ranking (token look-up, stamp, ranking statement: all reads) answers meanwhile.
        response = await client.get("/api/v1/rankings?point_type=A&key=2026-11", headers=auth(t.token))
        assert (response.status_code, response.json()["rows"]) == (200, [])
        # Control 2: the app's write sessions (BEGIN IMMEDIATE) do wait for the lock.
        async with app.state.sessions() as session:
            blocked = asyncio.create_task(session.execute(text("SELECT 1")))
            done, _ = await asyncio.wait({blocked}, timeout=1.0)
            assert not done
            writer.execute("ROLLBACK")
            await blocked  # goes through once the lock is released
    finally:
        writer.close()
        await client.aclose()


async def test_read_sessions_refuse_to_write(app: FastAPI) -> None:
    t = await make_tenant(app, "Acme")
    async with app.state.read_sessions() as session:
        name = (await session.execute(text(f"SELECT name FROM organisation WHERE id = {t.org_id}"))).scalar()
        assert name == "Acme"  # control: the session reads
        with pytest.raises(DBAPIError, match=r"readonly|read-only"):
            await session.execute(text("UPDATE organisation SET name = 'x'"))
