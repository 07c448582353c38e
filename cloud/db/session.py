"""The async engine and session factory: SQLite by default (WAL, foreign keys on), PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]

# SQLite rules. WAL lets readers run beside the writer. Foreign keys are off unless asked for on
# every connection. Every transaction starts with BEGIN IMMEDIATE, taking the write lock up front:
# a deferred transaction that read first and writes later fails at once ("database is locked",
# busy_timeout does not help) when another connection committed in between; an immediate one
# waits up to busy_timeout for its turn instead. One writer at a time suits the embedded default.
_SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000")


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for ``database_url``; on SQLite with the pragmas and immediate transactions."""
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _prepare_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _prepare_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # the driver must not open transactions on its own
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded attributes after commit (results are returned after the commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)
