"""One SQLite connection on its own thread: a whole unit of work per thread hop.

Why not aiosqlite: it hops to its thread once per call (execute, fetch, commit), ≈ 100 µs of
wake-ups each, and a group commit took ≈ 15 of them. Here a caller hands the thread one plain
function that runs every statement of its unit of work (a whole transaction, a claim, an ack)
against the connection, and awaits one future. The thread is the connection's only user, so units
never interleave: a function is a transaction boundary, no lock needed. A cancelled caller stops
waiting; a function that has started still runs to its end (a transaction is never left half
done), one still queued is dropped with its caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class SqliteThread:
    """``await SqliteThread.open(path, name)``; ``await thread.run(fn, *args)`` runs ``fn(conn, *args)``."""

    def __init__(self, executor: concurrent.futures.ThreadPoolExecutor, conn: sqlite3.Connection) -> None:
        self._executor, self._conn = executor, conn
        self._closed = False

    @classmethod
    async def open(cls, path: Path, name: str) -> SqliteThread:
        """Start the thread and open the connection on it (autocommit: units say BEGIN themselves)."""
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        connect = functools.partial(sqlite3.connect, path, isolation_level=None)
        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, conn)

    async def run(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(connection, *args, **kwargs)`` on the connection's thread; one hop."""
        if self._closed:
            raise sqlite3.ProgrammingError("the connection is closed")
        call = functools.partial(fn, self._conn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def close(self) -> None:
        """Close the connection on its thread (after any unit still running), then end the thread."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._conn.close)
        finally:
            self._executor.shutdown(wait=False)
