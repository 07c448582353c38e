"""The async engines and session factories: SQLite by default (WAL, foreign keys on), PostgreSQL by URL.

Two ways in: ``create_engine`` for work that writes, ``read_only_engine`` for reads (GET routes, token
look-ups) that must never queue behind a writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from cloud.db.wal_checkpoints import SAFETY_PAGES, WAL_FILE_LIMIT_BYTES

SessionFactory = async_sessionmaker[AsyncSession]

# SQLite rules. WAL lets readers run beside the writer. Foreign keys are off unless asked for on
# every connection. Every transaction that may write starts with BEGIN IMMEDIATE, taking the write
# lock up front: a deferred transaction that read first and writes later fails at once ("database
# is locked", busy_timeout does not help) when another connection committed in between; an
# immediate one waits up to busy_timeout for its turn instead. One writer at a time suits the
# embedded default. Reads take a deferred BEGIN on connections of their own with query_only on: a
# WAL reader never waits for the writer, and a read session that tried to write would fail at once
# instead of taking the lock in the middle of its transaction.
# Checkpoints: ``wal_checkpoints`` (a writer checkpoints by itself only past the safety bound).
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}",
    f"PRAGMA journal_size_limit={WAL_FILE_LIMIT_BYTES}",
)


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for ``database_url``; on SQLite with the pragmas and immediate transactions."""
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _prepare_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """An engine for reads only beside ``engine``: deferred, query-only SQLite connections of its own,
    or on PostgreSQL the same pool with read-only transactions. Dispose it with ``engine``."""
    if engine.dialect.name != "sqlite":
        return engine.execution_options(postgresql_readonly=True)
    reader = create_async_engine(engine.url)
    event.listen(reader.sync_engine, "connect", _prepare_sqlite_reader)
    event.listen(reader.sync_engine, "begin", _begin_deferred)
    return reader


def _prepare_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # the driver must not open transactions on its own
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _prepare_sqlite_reader(dbapi_connection: Any, record: object) -> None:
    _prepare_sqlite_connection(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")  # a snapshot from the first read on; never the write lock


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded attributes after commit (results are returned after the commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)
