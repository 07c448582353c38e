"""The async engine and session factory: SQLite by default (WAL, foreign keys on), PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]

# WAL lets the API read while ingest writes; busy_timeout makes a writer wait for the other instead
# of failing at once; foreign keys are off in SQLite unless asked for on every connection.
_SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000")


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for ``database_url``, with the SQLite pragmas applied to every connection."""
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
    return engine


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded attributes after commit (results are returned after the commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)
