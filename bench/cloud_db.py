"""Cloud databases for the benchmarks: a migrated, seeded tenant on SQLite or on PostgreSQL.

SQLite lives in a scratch directory. PostgreSQL (only when ``MPM_TEST_POSTGRES_URL`` is set) gets a
database of its own, created for the run and dropped afterwards, so no other data is touched.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select
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


def backends() -> list[str]:
    """SQLite always; PostgreSQL too when MPM_TEST_POSTGRES_URL names a server."""
    return ["sqlite"] + (["postgresql"] if os.environ.get("MPM_TEST_POSTGRES_URL") else [])


@asynccontextmanager
async def database_url(backend: str, directory: Path) -> AsyncIterator[str]:
    """An empty database of ``backend`` for this run alone."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'cloud.db'}"
        return
    base = make_url(os.environ["MPM_TEST_POSTGRES_URL"])
    name = f"mpm_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=base.host, port=base.port, user=base.username, password=base.password, database=base.database
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def seeded(url: str) -> Tenant:
    """Migrate ``url`` and seed the demo tenant plus members with PINs 1..MEMBERS."""
    engine = create_engine(url)
    try:
        await upgrade_head(engine)
        sessions: SessionFactory = session_factory(engine)
        async with sessions() as session:
            seed = await seed_demo(session, AGENT_ID, "lobby")
            extra = [str(pin) for pin in range(1, MEMBERS + 1) if str(pin) not in DEMO_MEMBERS]
            session.add_all([Member(org_id=seed.org_id, display_name=f"Member {p}", pin=p) for p in extra])
            await session.commit()
        async with sessions() as session:
            members = await session.execute(select(Member.pin, Member.id).where(Member.org_id == seed.org_id))
            pins = {str(pin): int(member_id) for pin, member_id in members}
            agent = select(Agent.id).where(Agent.agent_id == AGENT_ID)
            agent_pk = int((await session.execute(agent)).scalar_one())
        return Tenant(url=url, org_id=seed.org_id, agent_pk=agent_pk, token=seed.token, member_ids=pins)
    finally:
        await engine.dispose()
