"""Shared set-up for the dashboard tests: an organisation with ranked members, an agent and a sign."""

from __future__ import annotations

import dataclasses

import httpx
from fastapi import FastAPI

from cloud.db.models import Agent, Consent, ConsentKind, Site
from cloud.domain.periods import today
from tests.cloud import factories

PEOPLE = (("Alice", 5), ("Bob", 3), ("张小三", 4))


@dataclasses.dataclass
class Org:
    org_id: int
    token: str
    point_type_id: int
    members: dict[str, int]


async def seeded_org(app: FastAPI, *, consenting: tuple[str, ...] = ()) -> Org:
    """Acme with point type A, ``PEOPLE`` awarded their points today, a site with one agent."""
    async with app.state.sessions() as session:
        t = await factories.tenant(session)
        members: dict[str, int] = {}
        for name, points in PEOPLE:
            member = await factories.member(session, t.org_id, name)
            members[name] = member.id
            await factories.award(session, t, member.id, points, today("Asia/Shanghai"), f"seed-{name}")
        site = Site(org_id=t.org_id, name="Main office")
        session.add(site)
        await session.flush()
        status = {
            "state": "online",
            "backlog_rows": 7,
            "oldest_unacked_age_s": 12.5,
            "devices": {"lobby": "ok"},
        }
        session.add(Agent(agent_id="site-1", org_id=t.org_id, site_id=site.id, last_status=status))
        for name in consenting:
            session.add(
                Consent(
                    org_id=t.org_id,
                    member_id=members[name],
                    kind=ConsentKind.PUBLIC_DISPLAY,
                    granted=True,
                    notice_version="1",
                    actor="self",
                )
            )
        await session.commit()
    return Org(org_id=t.org_id, token=t.token, point_type_id=t.point_type_id, members=members)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def log_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Post the login form; the client keeps the pass cookie."""
    return await client.post(
        "/dashboard/login",
        content=f"token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
