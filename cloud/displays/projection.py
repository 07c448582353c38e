"""Display content: a projection of rankings for the signs of one agent (shared/PRIVACY.md DISP-1/2).

Only display name, rank and points leave the cloud: never legal name, phone or reasons. A public
display lists only members whose newest public-display consent record (CON-1) is a grant, ranked
among themselves; without consent records it lists nobody rather than someone who never agreed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, Display, Organisation
from cloud.domain import ranking
from cloud.domain.periods import PeriodKind, period_key, today
from firmware_protocols import sync


async def sign_content(session: AsyncSession, display: Display, month: str) -> sync.SignContent:
    """What one sign shows: the top N of the month for its point type."""
    scope = ranking.Scope(
        org_id=display.org_id,
        point_type_id=display.point_type_id,
        period_kind=PeriodKind.MONTH,
        period_key=month,
        public_only=display.audience != "internal",
    )
    ranked = await ranking.ranked(session, scope, display.size)
    rows = tuple(sync.RankRow(rank=r.rank, name=r.display_name, points=r.points) for r in ranked)
    return sync.SignContent(sign=display.sign, title=display.title, period=month, rows=rows)


async def agent_content(session: AsyncSession, agent: Agent) -> sync.DisplayContent:
    """The next content for every sign of ``agent``, its display version bumped; caller commits."""
    org = await session.get_one(Organisation, agent.org_id)
    month = period_key(PeriodKind.MONTH, today(org.time_zone))
    displays = await session.execute(
        select(Display).where(Display.agent_pk == agent.id).order_by(Display.sign)
    )
    signs = [await sign_content(session, d, month) for d in displays.scalars()]
    return sync.DisplayContent(
        version=await _next_version(session, agent.id),
        generated_at=dt.datetime.now(dt.UTC),
        signs=tuple(signs),
    )


async def _next_version(session: AsyncSession, agent_pk: int) -> int:
    # An atomic increment, so two publishers never hand out the same version.
    statement = (
        update(Agent)
        .where(Agent.id == agent_pk)
        .values(display_version=Agent.display_version + 1)
        .returning(Agent.display_version)
    )
    return int((await session.execute(statement)).scalar_one())
