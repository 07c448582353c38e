"""``seed-demo``: an idempotent demo tenant for one agent and one sign (the spine end to end)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Final, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import Base
from cloud.db.models import (
    Agent,
    AttendanceRule,
    Display,
    Member,
    Organisation,
    OrgKind,
    PointRule,
    PointType,
    Role,
    Site,
)
from cloud.domain.orgs import create_org, issue_token

DEMO_ORG: Final = "MPM demo"
DEMO_SITE: Final = "Demo site"
# Terminal PIN → display name: Latin names first (the pyzk/Alpha demo shows Latin text), one Chinese.
DEMO_MEMBERS: Final = {"1": "Alice", "2": "Bob", "3": "Carol", "4": "Dave", "5": "Erin", "6": "张三"}
SHIFT_START: Final = dt.time(9, 0)

_M = TypeVar("_M", bound=Base)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DemoSeed:
    org_id: int
    agent_id: str
    sign: str
    token: str


async def seed_demo(session: AsyncSession, agent_id: str, sign: str) -> DemoSeed:
    """Create what is missing of the demo tenant and return a fresh org-admin token; the caller commits."""
    org = await _demo_org(session)
    site = await _get_or_add(session, Site, org_id=org.id, name=DEMO_SITE)
    point_type = await _get_or_add(session, PointType, org_id=org.id, code="A", defaults={"name": "A points"})
    on_time = await _rule(session, org.id, point_type.id, "on time", 2)
    late = await _rule(session, org.id, point_type.id, "late", -1)
    await _get_or_add(
        session,
        AttendanceRule,
        org_id=org.id,
        defaults={"shift_start": SHIFT_START, "on_time_rule_id": on_time.id, "late_rule_id": late.id},
    )
    for pin, name in DEMO_MEMBERS.items():
        await _get_or_add(session, Member, org_id=org.id, pin=pin, defaults={"display_name": name})
    agent = await _get_or_add(
        session, Agent, agent_id=agent_id, defaults={"org_id": org.id, "site_id": site.id}
    )
    await _get_or_add(
        session,
        Display,
        agent_pk=agent.id,
        sign=sign,
        defaults={"org_id": agent.org_id, "point_type_id": point_type.id, "size": 5, "title": "Top 5"},
    )
    token = await issue_token(session, org.id, Role.ORG_ADMIN, label="seed-demo")
    return DemoSeed(org_id=org.id, agent_id=agent_id, sign=sign, token=token)


async def _demo_org(session: AsyncSession) -> Organisation:
    found = (
        (await session.execute(select(Organisation).where(Organisation.name == DEMO_ORG))).scalars().first()
    )
    return found or await create_org(session, DEMO_ORG, OrgKind.ENTERPRISE)


async def _rule(session: AsyncSession, org_id: int, point_type_id: int, name: str, points: int) -> PointRule:
    return await _get_or_add(
        session,
        PointRule,
        org_id=org_id,
        name=name,
        defaults={"category": "attendance", "point_type_id": point_type_id, "points": points},
    )


async def _get_or_add(
    session: AsyncSession, model: type[_M], *, defaults: dict[str, Any] | None = None, **match: Any
) -> _M:
    query = select(model).filter_by(**match)
    found = (await session.execute(query)).scalars().first()
    if found is not None:
        return found
    row = model(**match, **(defaults or {}))
    session.add(row)
    await session.flush()
    return row
