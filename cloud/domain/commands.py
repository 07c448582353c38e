"""Commands to agents: queued → delivered (published on ``down/cmd``) → result (a ``cmd_result`` event).

The agent answers through its outbox with a ``cmd_result`` event, which ingest stores as an
``agent_event``; a command's outcome is read from there, so ingest needs no knowledge of commands.
An undelivered command whose expiry passed is never published (the agent would drop it anyway).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import Agent, AgentCommand, AgentEvent
from firmware_protocols import sync


class CommandStatus(enum.StrEnum):
    QUEUED = "queued"
    EXPIRED = "expired"
    DELIVERED = "delivered"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    status: CommandStatus
    detail: str = ""


async def queue(
    session: AsyncSession, agent: Agent, command_type: str, args: dict[str, Any], ttl: dt.timedelta
) -> AgentCommand:
    """Queue a command for ``agent``; the publisher delivers it. The caller commits."""
    command = AgentCommand(
        org_id=agent.org_id,
        agent_pk=agent.id,
        cmd_id=str(uuid.uuid4()),
        type=command_type,
        args=args,
        expires_at=utc_now() + ttl,
    )
    session.add(command)
    await session.flush()
    return command


async def outcome(session: AsyncSession, command: AgentCommand) -> Outcome:
    """Where ``command`` stands, from its delivery time and the agent's ``cmd_result`` events."""
    results = await session.execute(
        select(AgentEvent.data).where(
            AgentEvent.agent_pk == command.agent_pk,
            AgentEvent.kind == sync.EventKind.CMD_RESULT.value,
            AgentEvent.occurred_at >= command.created_at - dt.timedelta(minutes=5),  # agent clock skew
        )
    )
    for data in results.scalars():
        if data.get("cmd_id") == command.cmd_id:
            ok = data.get("ok") is True
            detail = str(data.get("detail", ""))
            return Outcome(status=CommandStatus.SUCCEEDED if ok else CommandStatus.FAILED, detail=detail)
    if command.delivered_at is not None:
        return Outcome(status=CommandStatus.DELIVERED)
    expired = command.expires_at <= utc_now()
    return Outcome(status=CommandStatus.EXPIRED if expired else CommandStatus.QUEUED)


async def deliverable(session: AsyncSession) -> list[tuple[str, AgentCommand]]:
    """Undelivered, unexpired commands with their agent ids, oldest first."""
    query = (
        select(Agent.agent_id, AgentCommand)
        .join(Agent, Agent.id == AgentCommand.agent_pk)
        .where(AgentCommand.delivered_at.is_(None), AgentCommand.expires_at > utc_now())
        .order_by(AgentCommand.id)
    )
    return [(agent_id, command) for agent_id, command in (await session.execute(query)).all()]


def message(command: AgentCommand) -> sync.Command:
    """The contract message for ``command``."""
    return sync.Command(
        cmd_id=command.cmd_id, expires_at=command.expires_at, type=command.type, args=command.args
    )
