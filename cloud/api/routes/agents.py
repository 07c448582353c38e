"""Site agents: register by identity, list, get with the last status, retire; commands and results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import OrgAdmin, PageDep, PublisherDep, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import agent_by_id, owned, page_of
from cloud.api.problems import not_found, problem
from cloud.api.schemas import AgentIn, AgentOut
from cloud.db.base import utc_now
from cloud.db.models import Agent, AgentCommand, Site
from cloud.deploy.retirement import RevocationUnavailable, revoke_certificates
from cloud.domain import audit_log, commands
from firmware_protocols import sync

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
async def list_agents(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[AgentOut]:
    """The organisation's agents."""
    query = select(Agent).where(Agent.org_id == principal.org_id).order_by(Agent.id)
    return [AgentOut.model_validate(a) for a in await page_of(session, query, page)]


@router.get("/{agent_id}")
async def get_agent(agent_id: str, session: ReadSessionDep, principal: Viewer) -> AgentOut:
    """One agent with its last reported status."""
    return AgentOut.model_validate(await agent_by_id(session, agent_id, principal.org_id))


class RetiredOut(BaseModel):
    """The retired agent, the certificate serials newly revoked and the CRL the broker must reload."""

    agent: AgentOut
    revoked_serials: list[str]
    crl_file: str | None = Field(description="null when the cloud has no agent CA configured")
    broker_action: str


@router.post("/{agent_id}/retire")
async def retire_agent(
    agent_id: str, request: Request, session: SessionDep, principal: OrgAdmin
) -> RetiredOut:
    """Retire an agent for good: its events are refused, displays and commands stop, its certificates
    are revoked in the CA's CRL (the broker applies it on ``systemctl reload mosquitto``)."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    if agent.retired_at is not None:
        raise problem(409, f"agent {agent_id!r} was already retired at {agent.retired_at.isoformat()}")
    agent.retired_at = utc_now()
    try:
        revocation = revoke_certificates(request.app.state.settings, agent.agent_id)
    except RevocationUnavailable as error:
        raise problem(503, f"the agent was not retired: {error}") from error
    detail = {"revoked_serials": revocation.serials}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "agent.retire", f"agent:{agent.agent_id}", detail
    )
    await session.commit()
    return RetiredOut(
        agent=AgentOut.model_validate(agent),
        revoked_serials=revocation.serials,
        crl_file=str(revocation.crl) if revocation.crl else None,
        broker_action="systemctl reload mosquitto" if revocation.crl else "none (no agent CA configured)",
    )


class CommandIn(BaseModel):
    """A command for the agent (it knows ``user_upsert``, ``user_delete``, ``sync_time``)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "sync_time", "args": {}, "ttl_s": 3600}]}
    )

    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["sync_time"])
    args: dict[str, Any] = Field(default_factory=dict, examples=[{}])
    ttl_s: int = Field(default=3600, ge=10, le=7 * 24 * 3600, description="seconds until it expires")


class CommandOut(BaseModel):
    cmd_id: str
    type: str
    args: dict[str, Any]
    created_at: dt.datetime
    expires_at: dt.datetime
    delivered_at: dt.datetime | None
    status: commands.CommandStatus
    detail: str


async def _command_out(session: AsyncSession, command: AgentCommand) -> CommandOut:
    outcome = await commands.outcome(session, command)
    return CommandOut(
        cmd_id=command.cmd_id,
        type=command.type,
        args=command.args,
        created_at=command.created_at,
        expires_at=command.expires_at,
        delivered_at=command.delivered_at,
        status=outcome.status,
        detail=outcome.detail,
    )


@router.post("/{agent_id}/commands", status_code=201)
async def send_command(
    agent_id: str, body: CommandIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> CommandOut:
    """Queue a command; it is published on the agent's ``down/cmd`` topic and its result tracked."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    if agent.retired_at is not None:
        raise problem(409, f"agent {agent_id!r} is retired")
    if (
        len(sync.encode(sync.Command(cmd_id="x", expires_at=utc_now(), type=body.type, args=body.args)))
        > 60_000
    ):
        raise problem(422, "the command's arguments are too large")
    command = await commands.queue(session, agent, body.type, body.args, dt.timedelta(seconds=body.ttl_s))
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "agent.command",
        f"agent:{agent.agent_id}",
        {"cmd_id": command.cmd_id, "type": body.type},
    )
    await session.commit()
    if publisher is not None:
        publisher.commands_queued()
    return await _command_out(session, command)


@router.get("/{agent_id}/commands")
async def list_commands(
    agent_id: str, session: ReadSessionDep, principal: Viewer, page: PageDep
) -> list[CommandOut]:
    """The agent's commands, newest first, each with where it stands."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    query = select(AgentCommand).where(AgentCommand.agent_pk == agent.id).order_by(AgentCommand.id.desc())
    return [await _command_out(session, c) for c in await page_of(session, query, page)]


@router.get("/{agent_id}/commands/{cmd_id}")
async def get_command(agent_id: str, cmd_id: str, session: ReadSessionDep, principal: Viewer) -> CommandOut:
    """One command: queued, expired, delivered, succeeded or failed (with the agent's detail)."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    query = select(AgentCommand).where(AgentCommand.agent_pk == agent.id, AgentCommand.cmd_id == cmd_id)
    command = (await session.execute(query)).scalar_one_or_none()
    if command is None:
        raise not_found("command", cmd_id)
    return await _command_out(session, command)
