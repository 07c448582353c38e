"""The fleet view of one organisation: each agent's health as last reported, and its open alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, Alert
from cloud.fleet.evaluation import rules_by_org
from cloud.fleet.rules import DEFAULT_RULES, AgentHealth, is_online


class DeviceOut(BaseModel):
    name: str
    state: str  # up | down | unknown, as the agent reports it
    errors: int = 0  # protocol faults the device's driver survived since the agent started


class AlertOut(BaseModel):
    id: int
    rule: str
    agent_id: str
    device: str | None
    detail: dict[str, Any]
    raised_at: dt.datetime
    resolved_at: dt.datetime | None


class FleetAgentOut(BaseModel):
    agent_id: str
    site_id: int | None
    online: bool
    last_seen: dt.datetime | None
    software_version: str | None
    backlog_rows: int | None
    oldest_unacked_age_s: float | None
    outbox_full: bool | None
    dropped: int | None
    devices: list[DeviceOut]
    devices_down: int
    cert_expires_at: dt.datetime | None
    open_alerts: list[AlertOut]


class FleetOut(BaseModel):
    at: dt.datetime
    agents_total: int
    agents_online: int
    devices_down: int
    open_alerts: int
    agents: list[FleetAgentOut]


async def fleet(session: AsyncSession, org_id: int, now: dt.datetime) -> FleetOut:
    """Every agent in service of ``org_id``, in registration order, with its open alerts."""
    rules = (await rules_by_org(session, [org_id])).get(org_id, DEFAULT_RULES)
    agents = await session.scalars(
        select(Agent).where(Agent.org_id == org_id, Agent.retired_at.is_(None)).order_by(Agent.id)
    )
    open_alerts = await session.scalars(
        select(Alert).where(Alert.org_id == org_id, Alert.resolved_at.is_(None)).order_by(Alert.id)
    )
    alerts_of: dict[str, list[AlertOut]] = {}
    for alert in open_alerts:
        alerts_of.setdefault(alert.agent_id, []).append(AlertOut.model_validate(alert, from_attributes=True))
    rows = [_agent_out(a, alerts_of.get(a.agent_id, []), is_online(_health(a), rules, now)) for a in agents]
    return FleetOut(
        at=now,
        agents_total=len(rows),
        agents_online=sum(r.online for r in rows),
        devices_down=sum(r.devices_down for r in rows),
        open_alerts=sum(len(r.open_alerts) for r in rows),
        agents=rows,
    )


def _health(agent: Agent) -> AgentHealth:
    return AgentHealth(
        org_id=agent.org_id,
        agent_id=agent.agent_id,
        last_status=agent.last_status,
        last_status_at=agent.last_status_at,
        cert_expires_at=agent.cert_expires_at,
    )


def _agent_out(agent: Agent, alerts: list[AlertOut], online: bool) -> FleetAgentOut:
    status = agent.last_status or {}
    reported, errors = status.get("devices") or {}, status.get("device_errors") or {}
    devices = [
        DeviceOut(name=str(n), state=str(s), errors=int(errors.get(n, 0)))
        for n, s in sorted(reported.items())
    ]
    return FleetAgentOut(
        agent_id=agent.agent_id,
        site_id=agent.site_id,
        online=online,
        last_seen=agent.last_status_at,
        software_version=status.get("agent_version") or None,
        backlog_rows=status.get("backlog_rows"),
        oldest_unacked_age_s=status.get("oldest_unacked_age_s"),
        outbox_full=status.get("outbox_full"),
        dropped=status.get("dropped"),
        devices=devices
        if online
        else [DeviceOut(name=d.name, state="unknown", errors=d.errors) for d in devices],
        devices_down=sum(d.state == "down" for d in devices) if online else 0,
        cert_expires_at=agent.cert_expires_at,
        open_alerts=alerts,
    )
