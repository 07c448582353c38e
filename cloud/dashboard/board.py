"""What the dashboard shows, read from the database as the signs' projections (shared/PRIVACY.md DISP).

Rules: the ranking is the ranking the API and the signs compute (``cloud.domain.ranking``), display
names only; a ``public`` view (a display link for a wall screen, by default) lists only members with
public-display consent, as a public sign does. Latest events are the ``latest_events`` sign kind's
lines: masked names, points and rule names, never a free-text reason. Sign previews are each sign's
content as the display projection builds it now (``cloud.displays.projection.sign_content``), without
moving any display version. Every list is bounded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, Department, Display, Organisation, PointType, Site
from cloud.displays import kinds
from cloud.displays.default_sign import default_display, default_point_type
from cloud.displays.projection import sign_content
from cloud.domain import ranking
from cloud.domain.departments import subtree
from cloud.domain.periods import PeriodKind, local_date, period_key
from firmware_protocols import sync

RANKING_ROWS: Final = 20
EVENT_LINES: Final = 10
MAX_AGENTS: Final = 50
MAX_SIGNS_PER_AGENT: Final = 16


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class View:
    """Which ranking a dashboard shows and to whom."""

    org_id: int
    point_type: str | None = None  # code; None: the organisation's default point type
    period: PeriodKind = PeriodKind.MONTH
    department_id: int | None = None
    public_only: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RankingPanel:
    point_type_code: str
    point_type_name: str
    period: str
    key: str
    department: str
    rows: list[ranking.RankedMember]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentPanel:
    agent_id: str
    site: str
    online: bool
    backlog_rows: int
    oldest_unacked_age_s: float | None
    last_seen: dt.datetime | None
    devices: dict[str, str]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SignPreview:
    agent_id: str
    sign: str
    lines: list[str]
    agent_online: bool = True  # offline: the sign may still show older content than this


def preview_lines(content: sync.SignContent) -> list[str]:
    """The lines a person reads off a sign showing ``content``: the title, then rows or free text."""
    title = f"{content.title} {content.period}".strip()
    body = list(content.lines) or [f"{row.rank} {row.name} {row.points}" for row in content.rows]
    return [title, *body] if title else body


async def choices(session: AsyncSession, org_id: int) -> tuple[list[PointType], list[Department]]:
    """The point types and departments a viewer can switch between."""
    types = await session.execute(select(PointType).where(PointType.org_id == org_id).order_by(PointType.id))
    departments = await session.execute(
        select(Department).where(Department.org_id == org_id).order_by(Department.name).limit(200)
    )
    return list(types.scalars()), list(departments.scalars())


async def ranking_panel(session: AsyncSession, view: View, now: dt.datetime) -> RankingPanel | None:
    """The view's ranking, or None when the organisation has no such point type."""
    org = await session.get_one(Organisation, view.org_id)
    point_type = await _point_type(session, view)
    if point_type is None:
        return None
    department_ids, department_name = None, ""
    if view.department_id is not None:
        department = await session.get(Department, view.department_id)
        if department is not None and department.org_id == view.org_id:
            department_ids = await subtree(session, view.org_id, department.id)
            department_name = department.name
    key = period_key(view.period, local_date(now, org.time_zone))
    scope = ranking.Scope(
        org_id=view.org_id,
        point_type_id=point_type.id,
        period_kind=view.period.value,
        period_key=key,
        department_ids=department_ids,
        public_only=view.public_only,
    )
    rows = await ranking.ranked(session, scope, RANKING_ROWS)
    return RankingPanel(
        point_type_code=point_type.code,
        point_type_name=point_type.name,
        period=view.period.value,
        key=key,
        department=department_name,
        rows=rows,
    )


async def _point_type(session: AsyncSession, view: View) -> PointType | None:
    if view.point_type is None:
        return await default_point_type(session, view.org_id)
    query = select(PointType).where(PointType.org_id == view.org_id, PointType.code == view.point_type)
    return (await session.execute(query)).scalar_one_or_none()


async def latest_events(session: AsyncSession, view: View) -> list[str]:
    """The newest approved awards as the ``latest_events`` sign kind shows them (masked names)."""
    point_type = await _point_type(session, view)
    if point_type is None:
        return []
    feed = Display(
        org_id=view.org_id,
        point_type_id=point_type.id,
        content_kind=kinds.Kind.LATEST_EVENTS.value,
        size=EVENT_LINES,
        audience="public" if view.public_only else "internal",
    )
    return list(await kinds.latest_event_lines(session, feed))


async def agent_panels(session: AsyncSession, org_id: int) -> list[AgentPanel]:
    """Every agent in service with its site and last reported status (one statement)."""
    query = (
        select(Agent, Site.name)
        .outerjoin(Site, Site.id == Agent.site_id)
        .where(Agent.org_id == org_id, Agent.retired_at.is_(None))
        .order_by(Site.name, Agent.agent_id)
        .limit(MAX_AGENTS)
    )
    return [_agent_panel(agent, site or "") for agent, site in (await session.execute(query)).all()]


def _agent_panel(agent: Agent, site: str) -> AgentPanel:
    status: dict[str, Any] = agent.last_status or {}
    age = status.get("oldest_unacked_age_s")
    devices = status.get("devices")
    return AgentPanel(
        agent_id=agent.agent_id,
        site=site,
        online=status.get("state") == "online",
        backlog_rows=int(status.get("backlog_rows") or 0),
        oldest_unacked_age_s=float(age) if isinstance(age, int | float) else None,
        last_seen=agent.last_status_at,
        devices={str(k): str(v) for k, v in devices.items()} if isinstance(devices, dict) else {},
    )


async def sign_previews(
    session: AsyncSession, org_id: int, now: dt.datetime, public_only: bool = False
) -> list[SignPreview]:
    """What every sign of every agent in service is given to show now, as lines; for a ``public_only``
    viewer only the public signs (an internal sign may list members who never agreed to be shown)."""
    org = await session.get_one(Organisation, org_id)
    month = period_key(PeriodKind.MONTH, local_date(now, org.time_zone))
    agents = list(
        (
            await session.execute(
                select(Agent)
                .where(Agent.org_id == org_id, Agent.retired_at.is_(None))
                .order_by(Agent.agent_id)
                .limit(MAX_AGENTS)
            )
        ).scalars()
    )
    configured = await _configured_displays(session, org_id, [agent.id for agent in agents])
    previews: list[SignPreview] = []
    for agent in agents:
        fallback = None if agent.id in configured else await default_display(session, agent)
        online = (agent.last_status or {}).get("state") == "online"
        for display in configured.get(agent.id) or ([fallback] if fallback is not None else []):
            if public_only and display.audience == "internal":
                continue
            content = await sign_content(session, display, month, org.time_zone, now)
            lines = preview_lines(content)
            previews.append(
                SignPreview(agent_id=agent.agent_id, sign=display.sign, lines=lines, agent_online=online)
            )
    return previews


async def _configured_displays(
    session: AsyncSession, org_id: int, agent_pks: list[int]
) -> dict[int, list[Display]]:
    """The displays of these agents in one statement, at most ``MAX_SIGNS_PER_AGENT`` each, by sign."""
    query = (
        select(Display)
        .where(Display.org_id == org_id, Display.agent_pk.in_(agent_pks))
        .order_by(Display.agent_pk, Display.sign)
    )
    by_agent: dict[int, list[Display]] = {}
    for display in (await session.execute(query)).scalars():
        shown = by_agent.setdefault(display.agent_pk, [])
        if len(shown) < MAX_SIGNS_PER_AGENT:
            shown.append(display)
    return by_agent


async def sign_preview(
    session: AsyncSession, org_id: int, agent_id: str, sign: str, now: dt.datetime, public_only: bool = False
) -> SignPreview | None:
    """One sign's preview, or None when the organisation has no such agent or sign (for this viewer)."""
    for preview in await sign_previews(session, org_id, now, public_only):
        if preview.agent_id == agent_id and preview.sign == sign:
            return preview
    return None
