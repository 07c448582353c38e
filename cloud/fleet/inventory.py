"""Cloud-managed device inventories: versioned, sent to the agent as an ``apply_inventory`` command.

The cloud checks the shape it can check without the agent's code (the package rules keep
``edge_agent`` out of the cloud): a known ``kind``, a valid unique ``name`` per entry, bounded size.
The agent validates every field with its own device models before applying anything, and answers
through the command's result: applied (with the devices started and stopped) or refused (with the
entry and field at fault, the running inventory kept). The command is queued for a week; the agent's
persistent MQTT session receives it on reconnect if it was away; and should the broker have lost it
(restarted without persistence), the fleet round sends the newest version again once the agent has
been online for ``RESEND_AFTER`` without answering. The agent applies a version once: a repeat of
the version it runs is answered "not newer", which counts as applied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, AgentCommand, AgentInventory
from cloud.domain import commands

APPLY_INVENTORY: Final = "apply_inventory"
COMMAND_TTL: Final = dt.timedelta(days=7)
# A delivered inventory still unanswered this long while its agent reports online is sent again.
RESEND_AFTER: Final = dt.timedelta(minutes=5)
MAX_DEVICES: Final = 64
DeviceKind = Literal["zkteco", "zk_push", "isapi_face", "alpha_sign", "modbus_led"]


class DeviceEntry(BaseModel):
    """One device as in agent.toml's ``[[devices]]``; the agent checks the rest of its settings."""

    model_config = ConfigDict(extra="allow")

    kind: DeviceKind
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")


class InventoryIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "devices": [
                        {"kind": "alpha_sign", "name": "lobby-sign", "port": "/dev/ttyUSB0", "columns": 20},
                        {"kind": "zkteco", "name": "front-door", "host": "192.168.1.201"},
                    ]
                }
            ]
        },
    )

    devices: list[DeviceEntry] = Field(max_length=MAX_DEVICES)

    @field_validator("devices")
    @classmethod
    def _unique_names(cls, devices: list[DeviceEntry]) -> list[DeviceEntry]:
        names = [d.name for d in devices]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"device names are used twice: {', '.join(twice)}")
        return devices


InventoryStatus = Literal["queued", "delivered", "applied", "refused", "expired"]
_STATUS: Final[dict[commands.CommandStatus, InventoryStatus]] = {
    commands.CommandStatus.QUEUED: "queued",
    commands.CommandStatus.DELIVERED: "delivered",
    commands.CommandStatus.SUCCEEDED: "applied",
    commands.CommandStatus.FAILED: "refused",
    commands.CommandStatus.EXPIRED: "expired",
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class VersionState:
    inventory: AgentInventory
    status: InventoryStatus
    detail: str


async def push(session: AsyncSession, agent: Agent, body: InventoryIn) -> AgentInventory:
    """Store the next version and queue its command; the caller commits and wakes the publisher."""
    latest = await session.scalar(
        select(func.max(AgentInventory.version)).where(AgentInventory.agent_pk == agent.id)
    )
    version = (latest or 0) + 1
    devices: list[dict[str, Any]] = [d.model_dump(mode="json") for d in body.devices]
    command = await commands.queue(
        session, agent, APPLY_INVENTORY, {"version": version, "devices": devices}, COMMAND_TTL
    )
    inventory = AgentInventory(
        org_id=agent.org_id, agent_pk=agent.id, version=version, devices=devices, cmd_id=command.cmd_id
    )
    session.add(inventory)
    await session.flush()
    return inventory


async def versions(session: AsyncSession, agent: Agent, limit: int = 20) -> list[VersionState]:
    """The newest ``limit`` versions with where each stands."""
    rows = await session.execute(
        select(AgentInventory, AgentCommand)
        .join(AgentCommand, AgentCommand.cmd_id == AgentInventory.cmd_id)
        .where(AgentInventory.agent_pk == agent.id)
        .order_by(AgentInventory.version.desc())
        .limit(limit)
    )
    states = []
    for inventory, command in rows.all():
        outcome = await commands.outcome(session, command)
        states.append(
            VersionState(inventory=inventory, status=_STATUS[outcome.status], detail=outcome.detail)
        )
    return states


async def resend_unanswered(session: AsyncSession, now: dt.datetime) -> list[AgentInventory]:
    """Queue again the newest inventory of every agent in service that was delivered at least
    ``RESEND_AFTER`` ago, is unanswered, and whose agent reported online since; the caller commits."""
    newest = (
        select(AgentInventory.agent_pk, func.max(AgentInventory.version).label("version"))
        .group_by(AgentInventory.agent_pk)
        .subquery()
    )
    rows = await session.execute(
        select(AgentInventory, AgentCommand, Agent)
        .join(
            newest,
            (newest.c.agent_pk == AgentInventory.agent_pk) & (newest.c.version == AgentInventory.version),
        )
        .join(AgentCommand, AgentCommand.cmd_id == AgentInventory.cmd_id)
        .join(Agent, Agent.id == AgentInventory.agent_pk)
        .where(
            Agent.retired_at.is_(None),
            AgentCommand.delivered_at <= now - RESEND_AFTER,
            Agent.last_status_at > AgentCommand.delivered_at,
        )
    )
    resent = []
    for inventory, command, agent in rows.all():
        if (agent.last_status or {}).get("state") != "online":
            continue
        if (await commands.outcome(session, command)).status is not commands.CommandStatus.DELIVERED:
            continue
        again = await commands.queue(session, agent, APPLY_INVENTORY, dict(command.args), COMMAND_TTL)
        inventory.cmd_id = again.cmd_id
        resent.append(inventory)
    await session.flush()
    return resent
