"""SQLite WAL checkpoints run in the background, not inside a writer's commit (cloud.db.wal_checkpoints).

Real SQLite files throughout. "Checkpointed" is read from the database file alone: a copy of the
main file without its WAL holds exactly what the checkpoints have copied into it. The writing
engine stays open while that is read: the last connection to close checkpoints everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.app import create_app
from cloud.db.session import create_engine
from cloud.db.wal_checkpoints import CheckpointStats, checkpoint_periodically, database_file
from cloud.settings import CloudSettings
from tests.support.polling import async_wait_for, holds

ROWS = 400
PAGE = 4096


def _rows_in_the_file_alone(path: Path, tmp_path: Path, table: str = "t") -> int:
    """Rows of ``table`` in the main database file, ignoring its WAL (a copy without the -wal file)."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    with contextlib.closing(sqlite3.connect(alone)) as conn:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) if tables else 0


def _wal_bytes(path: Path) -> int:
    return Path(f"{path}-wal").stat().st_size


@contextlib.asynccontextmanager
async def _writer(path: Path) -> AsyncIterator[AsyncEngine]:
    """The cloud's engine (its pragmas) on ``path``, open for the block."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)"))
        yield engine
    finally:
        await engine.dispose()


async def _write_rows(engine: AsyncEngine, rows: int) -> None:
    """``rows`` one-page rows, one transaction each."""
    for _ in range(rows):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))


async def test_a_writer_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    """1,200 pages of commits: SQLite's default would have checkpointed at 1,000; ours did not."""
    path = tmp_path / "cloud.db"
    async with _writer(path) as engine:
        await _write_rows(engine, 1_200)
        assert _rows_in_the_file_alone(path, tmp_path) == 0
        assert _wal_bytes(path) > 1_200 * PAGE

    # Control: the same commits on a connection with SQLite's default do checkpoint by themselves.
    control = tmp_path / "control.db"
    with contextlib.closing(sqlite3.connect(control, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        for _ in range(1_200):
            conn.execute("INSERT INTO t (body) VALUES (randomblob(3000))")
        assert _rows_in_the_file_alone(control, tmp_path) > 0


async def test_the_checkpointer_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    stats = CheckpointStats()
    async with _writer(path) as engine:
        await _write_rows(engine, ROWS)
        assert _rows_in_the_file_alone(path, tmp_path) == 0  # control: all of it is still in the WAL
        task = asyncio.create_task(checkpoint_periodically(path, stats, interval_s=0.05))
        try:
            await async_wait_for(lambda: holds(stats.checkpoints >= 1), what="a checkpoint")
            assert _rows_in_the_file_alone(path, tmp_path) == ROWS
            assert stats.wal_pages >= ROWS
            assert stats.failures == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_failed_checkpoint_is_counted_and_tried_again(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    path.write_bytes(b"not a database, " * 512)  # what a damaged or foreign file gives
    stats = CheckpointStats()
    task = asyncio.create_task(checkpoint_periodically(path, stats, interval_s=0.05))
    try:
        await async_wait_for(lambda: holds(stats.failures >= 2), what="two failures, the loop still running")
        assert stats.checkpoints == 0
        assert "not a database" in (stats.last_error or "")
        path.unlink()
        async with _writer(path) as engine:  # the file is fixed: checkpoints resume
            await _write_rows(engine, 10)
            await async_wait_for(lambda: holds(stats.checkpoints >= 1), what="a checkpoint after failures")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_missing_database_is_a_failure_not_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    stats = CheckpointStats()
    task = asyncio.create_task(checkpoint_periodically(path, stats, interval_s=0.05))
    try:
        await async_wait_for(lambda: holds(stats.failures >= 1), what="a failed checkpoint")
        assert not _exists(path)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _exists(path: Path) -> bool:
    return path.exists()


def test_only_a_sqlite_file_has_a_checkpointer() -> None:
    assert database_file(make_url("sqlite+aiosqlite:///data/cloud.db")) == Path("data/cloud.db")
    assert database_file(make_url("sqlite+aiosqlite://")) is None
    assert database_file(make_url("sqlite+aiosqlite:///:memory:")) is None
    assert database_file(make_url("postgresql+asyncpg://u@h/db")) is None


async def test_the_service_runs_the_checkpointer_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    application = create_app(CloudSettings(database_url=f"sqlite+aiosqlite:///{path}", mqtt_url=None))
    async with application.router.lifespan_context(application):
        stats: CheckpointStats = application.state.wal_checkpoints
        await async_wait_for(lambda: holds(stats.checkpoints >= 1), what="the service's first checkpoint")
        assert _rows_in_the_file_alone(path, tmp_path, "alembic_version") == 1
