"""An agent's cloud-managed device inventory: replace it (a new version, pushed to the box), read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cloud.api.deps import OrgAdmin, PublisherDep, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import agent_by_id
from cloud.api.problems import not_found, problem
from cloud.domain import audit_log
from cloud.fleet.inventory import InventoryIn, InventoryStatus, VersionState, push, versions

router = APIRouter(prefix="/agents", tags=["agents"])
MAX_COMMAND_BYTES = 60_000


class InventoryOut(BaseModel):
    version: int
    devices: list[dict[str, Any]]
    created_at: dt.datetime
    status: InventoryStatus = Field(
        description="queued, delivered, applied, refused (detail says why) or expired"
    )
    detail: str
    applied_version: int | None = Field(description="the newest version the agent applied, if any")


def _out(state: VersionState, applied: int | None) -> InventoryOut:
    inventory = state.inventory
    return InventoryOut(
        version=inventory.version,
        devices=inventory.devices,
        created_at=inventory.created_at,
        status=state.status,
        detail=state.detail,
        applied_version=applied,
    )


@router.put("/{agent_id}/inventory")
async def put_inventory(
    agent_id: str, body: InventoryIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> InventoryOut:
    """Replace the agent's device inventory: a new version, sent to the agent, which validates and
    applies it live (devices in its local TOML stay as the installer pinned them)."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    if agent.retired_at is not None:
        raise problem(409, f"agent {agent_id!r} is retired")
    if len(body.model_dump_json()) > MAX_COMMAND_BYTES:
        raise problem(422, "the inventory is too large")
    inventory = await push(session, agent, body)
    detail = {"version": inventory.version, "devices": [d["name"] for d in inventory.devices]}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "agent.inventory", f"agent:{agent.agent_id}", detail
    )
    await session.commit()
    if publisher is not None:
        publisher.commands_queued()
    return await get_inventory(agent_id, session, principal)


@router.get("/{agent_id}/inventory")
async def get_inventory(agent_id: str, session: ReadSessionDep, principal: Viewer) -> InventoryOut:
    """The newest inventory version, whether the agent applied or refused it, and the version it runs."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    states = await versions(session, agent)
    if not states:
        raise not_found("inventory of agent", agent_id)
    applied = next((s.inventory.version for s in states if s.status == "applied"), None)
    return _out(states[0], applied)
