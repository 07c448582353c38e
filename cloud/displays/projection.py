"""Display content: a projection for the signs of one agent (shared/PRIVACY.md DISP-1/2).

Only display (or masked) name, department name, rank, points and rule names leave the cloud: never
legal name, phone or reasons. A public display lists only members whose newest public-display
consent record (CON-1) is a grant, ranked among themselves; without consent records it lists nobody
rather than someone who never agreed. Each kind's projection is in ``kinds``. An agent without any
display gets the organisation's default ranking for all its signs (``default_sign``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, Display, Organisation
from cloud.displays import kinds
from cloud.displays.default_sign import default_display
from cloud.displays.kinds import Kind
from cloud.domain.periods import PeriodKind, local_date, period_key
from firmware_protocols import sync


async def sign_content(
    session: AsyncSession, display: Display, month: str, time_zone: str, now: dt.datetime
) -> sync.SignContent:
    """What one sign shows, by its display's kind (cloud/displays/kinds.py)."""
    kind = display.content_kind
    rows: tuple[sync.RankRow, ...] = ()
    lines: tuple[str, ...] = ()
    period = month
    if kind == Kind.DEPARTMENT_TABLE:
        rows = await kinds.department_rows(session, display, month)
    elif kind == Kind.LATEST_EVENTS:
        lines, period = await kinds.latest_event_lines(session, display), ""
    elif kind == Kind.ANNOUNCEMENT:
        lines, period = kinds.announcement_lines(display), ""
    elif kind == Kind.CLOCK:
        lines, period = kinds.clock_lines(time_zone, now), ""
    else:  # top_n, red_list, black_list
        rows = await kinds.ranking_rows(session, display, month)
    # A top-N sign keeps the contract's default kind, so its payload is the same as ever.
    sign_kind = sync.messages.RANKING if kind == Kind.TOP_N else kind
    return sync.SignContent(
        sign=display.sign, title=display.title, period=period, rows=rows, kind=sign_kind, lines=lines
    )


async def agent_content(session: AsyncSession, agent: Agent) -> sync.DisplayContent:
    """The next content for every sign of ``agent``, its display version bumped; caller commits."""
    now = dt.datetime.now(dt.UTC)
    signs = await agent_signs(session, agent, now)
    return sync.DisplayContent(version=await next_version(session, agent.id), generated_at=now, signs=signs)


async def agent_signs(session: AsyncSession, agent: Agent, now: dt.datetime) -> tuple[sync.SignContent, ...]:
    """What every sign of ``agent`` shows at ``now`` (reads only)."""
    org = await session.get_one(Organisation, agent.org_id)
    month = period_key(PeriodKind.MONTH, local_date(now, org.time_zone))
    displays = await session.execute(
        select(Display).where(Display.agent_pk == agent.id).order_by(Display.sign)
    )
    configured = list(displays.scalars())
    fallback = None if configured else await default_display(session, agent)
    shown = configured or ([fallback] if fallback is not None else [])
    return tuple([await sign_content(session, d, month, org.time_zone, now) for d in shown])


async def next_version(session: AsyncSession, agent_pk: int) -> int:
    """The agent's next display version (an atomic increment: two publishers never hand out the
    same one); the caller commits."""
    statement = (
        update(Agent)
        .where(Agent.id == agent_pk)
        .values(display_version=Agent.display_version + 1)
        .returning(Agent.display_version)
    )
    return int((await session.execute(statement)).scalar_one())
