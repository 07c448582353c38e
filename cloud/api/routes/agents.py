"""Site agents: register by identity, list, get with the last status."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, SessionDep, Viewer
from cloud.api.lookups import agent_by_id, owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas import AgentIn, AgentOut
from cloud.db.models import Agent, Site
from cloud.domain import audit_log

router = APIRouter(prefix="/agents", tags=["agents"])


@router.post("", status_code=201)
async def register_agent(body: AgentIn, session: SessionDep, principal: OrgAdmin) -> AgentOut:
    """Register an agent identity (its MQTT username) with the organisation."""
    if body.site_id is not None:
        await owned(session, Site, body.site_id, principal.org_id, "site")
    if (await session.execute(select(Agent.id).where(Agent.agent_id == body.agent_id))).first():
        raise problem(409, f"agent id {body.agent_id!r} is already registered")
    agent = Agent(agent_id=body.agent_id, org_id=principal.org_id, site_id=body.site_id)
    session.add(agent)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "agent.register",
        f"agent:{agent.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return AgentOut.model_validate(agent)


@router.get("")
async def list_agents(session: SessionDep, principal: Viewer, page: PageDep) -> list[AgentOut]:
    """The organisation's agents."""
    query = select(Agent).where(Agent.org_id == principal.org_id).order_by(Agent.id)
    return [AgentOut.model_validate(a) for a in await page_of(session, query, page)]


@router.get("/{agent_id}")
async def get_agent(agent_id: str, session: SessionDep, principal: Viewer) -> AgentOut:
    """One agent with its last reported status."""
    return AgentOut.model_validate(await agent_by_id(session, agent_id, principal.org_id))
