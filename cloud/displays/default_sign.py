"""The default display: what an agent's signs show before anyone configures a display for it.

Rule: an agent with no display rows gets one sign content for ``sync.DEFAULT_SIGN``, which the agent
shows on every sign it drives. It is what ``POST /displays`` makes with its defaults: a top-5 of the
month, ``internal`` audience, for the organisation's default point type (code ``A`` if it has one, else
its first), titled with that point type's name. An organisation without point types has nothing to
rank, and its signs stay as they are. Configuring any display for the agent replaces the default.
"""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, Display, PointType
from firmware_protocols import sync

DEFAULT_POINT_TYPE_CODE = "A"


async def default_point_type(session: AsyncSession, org_id: int) -> PointType | None:
    """The organisation's default point type: ``A`` if it exists, else the first one made."""
    preference = case((PointType.code == DEFAULT_POINT_TYPE_CODE, 0), else_=1)
    query = select(PointType).where(PointType.org_id == org_id).order_by(preference, PointType.id).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def default_display(session: AsyncSession, agent: Agent) -> Display | None:
    """An unsaved top-N display for ``sync.DEFAULT_SIGN``, or None when there is nothing to rank."""
    point_type = await default_point_type(session, agent.org_id)
    if point_type is None:
        return None
    return Display(
        org_id=agent.org_id,
        agent_pk=agent.id,
        sign=sync.DEFAULT_SIGN,
        point_type_id=point_type.id,
        content_kind="top_n",
        size=5,
        title=point_type.name,
        audience="internal",
        announcement_text="",
        show_red_black=False,
    )
