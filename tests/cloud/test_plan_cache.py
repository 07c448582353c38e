"""Ingest's plan choice on PostgreSQL: reads planned with their values, writes generic, for one
transaction only; on SQLite nothing is sent (it has no plan cache to steer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db import plan_cache
from cloud.db.session import SessionFactory


async def _mode(session: Any) -> str:
    return str((await session.execute(text("SHOW plan_cache_mode"))).scalar_one())


async def test_reads_with_values_then_writes_generic_within_one_transaction(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    async with sessions() as session:
        await plan_cache.reads_with_values(session)
        if engine.dialect.name != "postgresql":
            await plan_cache.writes_generic(session)
            assert sent == []
            return
        assert await _mode(session) == "force_custom_plan"
        await plan_cache.writes_generic(session)
        assert await _mode(session) == "auto"
        await plan_cache.reads_with_values(session)
        await session.commit()
    async with sessions() as session:
        assert await _mode(session) == "auto"  # SET LOCAL ended with its transaction
