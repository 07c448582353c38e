"""Cloud databases for the benchmarks: a migrated, seeded tenant on SQLite or on PostgreSQL.

SQLite lives in a scratch directory. PostgreSQL (only with ``--postgres-url`` or
``MPM_BENCH_POSTGRES_URL``) gets a database of its own, created for the run and dropped afterwards,
so no other data is touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from cloud.db.migrate import upgrade_head
from cloud.db.models import Agent, Member
from cloud.db.session import SessionFactory, create_engine, session_factory
from cloud.domain.demo import DEMO_MEMBERS, seed_demo

MEMBERS: Final = 1000
AGENT_ID: Final = "bench-site"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Tenant:
    url: str
    org_id: int
    agent_pk: int
    token: str
    member_ids: dict[str, int]  # PIN → member id


def postgres_url() -> str | None:
    """The PostgreSQL server the benches may use (``--postgres-url`` sets MPM_BENCH_POSTGRES_URL)."""
    return os.environ.get("MPM_BENCH_POSTGRES_URL") or None


def backends() -> list[str]:
    """SQLite always; PostgreSQL too when a server was given."""
    return ["sqlite"] + (["postgresql"] if postgres_url() else [])


@contextmanager
def prepared(backend: str, directory: Path, members: int = MEMBERS) -> Iterator[Tenant]:
    """A migrated database of ``backend`` for this run alone, seeded with ``members`` members."""
    url = f"sqlite+aiosqlite:///{directory / 'cloud.db'}"
    if backend == "postgresql":
        url = asyncio.run(_create_postgres())
    try:
        yield asyncio.run(seeded(url, members))
    finally:
        if backend == "postgresql":
            asyncio.run(_drop_postgres(url))


async def connect(url: str) -> asyncpg.Connection:
    """A raw asyncpg connection to the database of a SQLAlchemy ``postgresql+asyncpg`` URL."""
    parts = make_url(url)
    return await asyncpg.connect(
        host=parts.host,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        database=parts.database,
    )


async def _create_postgres() -> str:
    base = make_url(postgres_url() or "")
    name = f"mpm_bench_{uuid.uuid4().hex[:12]}"
    admin = await connect(base.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return base.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres(url: str) -> None:
    parts = make_url(url)
    admin = await connect(make_url(postgres_url() or "").render_as_string(hide_password=False))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parts.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def seeded(url: str, members: int = MEMBERS) -> Tenant:
    """Migrate ``url`` and seed the demo tenant plus members with PINs 1..``members``."""
    engine = create_engine(url)
    try:
        await upgrade_head(engine)
        sessions: SessionFactory = session_factory(engine)
        async with sessions() as session:
            seed = await seed_demo(session, AGENT_ID, "lobby")
            extra = [str(pin) for pin in range(1, members + 1) if str(pin) not in DEMO_MEMBERS]
            rows = [{"org_id": seed.org_id, "display_name": f"Member {p}", "pin": p} for p in extra]
            for at in range(0, len(rows), 5000):  # one executemany per chunk: 100,000 members in seconds
                await session.execute(insert(Member), rows[at : at + 5000])
            await session.commit()
        if engine.dialect.name == "postgresql":
            # The members' statistics as autovacuum leaves them within a minute of a bulk load: a
            # cloud's members exist long before their first punch, and without statistics the planner
            # takes the table for empty. Only the loaded table: an empty one analysed as empty keeps
            # that verdict until autovacuum comes back, and its foreign-key checks scan meanwhile.
            async with engine.connect() as connection:
                await connection.execute(text("ANALYZE member"))
        async with sessions() as session:
            found = await session.execute(select(Member.pin, Member.id).where(Member.org_id == seed.org_id))
            pins = {str(pin): int(member_id) for pin, member_id in found}
            agent = select(Agent.id).where(Agent.agent_id == AGENT_ID)
            agent_pk = int((await session.execute(agent)).scalar_one())
        return Tenant(url=url, org_id=seed.org_id, agent_pk=agent_pk, token=seed.token, member_ids=pins)
    finally:
        await engine.dispose()
