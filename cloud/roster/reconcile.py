"""Reconciliation: read what the terminals really hold and compare it with the roster (issue 11).

``start_checks`` sends each live agent of a site a ``roster_check`` with every PIN the roster puts on
its terminals (edge_agent/roster_check.py). ``apply_checks`` takes in the answers: a PIN the roster
wants but a terminal lacks marks that device ``failed`` ("missing on the device"), which the next
``POST /roster/sync`` sends again; a PIN a terminal holds that the roster does not put there is a
finding (``findings``), shown to an admin and never deleted by the roster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import (
    Agent,
    AgentEvent,
    DeviceState,
    Member,
    RosterCheckRun,
    RosterDevice,
    RosterTarget,
)
from cloud.domain import commands
from cloud.roster.receipts import AGENT_DEVICE, CLOCK_SKEW
from firmware_protocols import sync

CHECK_TTL: Final = dt.timedelta(days=1)
MISSING: Final = "missing on the device (roster check)"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """A user on a terminal the roster does not put there; ``member_id`` when a member has that PIN."""

    agent_id: str
    device: str
    pin: str
    member_id: int | None
    seen_at: dt.datetime


async def start_checks(session: AsyncSession, org_id: int) -> int:
    """Queue a ``roster_check`` for every live agent of a site; returns how many. The caller commits."""
    agents = await session.execute(
        select(Agent).where(Agent.org_id == org_id, Agent.retired_at.is_(None), Agent.site_id.is_not(None))
    )
    started = 0
    for agent in agents.scalars():
        pins = await session.execute(
            select(RosterTarget.pin).where(
                RosterTarget.agent_pk == agent.id,
                RosterTarget.intended.is_not(None),
                RosterTarget.pin.is_not(None),
            )
        )
        args: dict[str, Any] = {"pins": sorted(p for p in pins.scalars() if p)}
        command = await commands.queue(session, agent, "roster_check", args, CHECK_TTL)
        session.add(RosterCheckRun(org_id=org_id, agent_pk=agent.id, cmd_id=command.cmd_id))
        started += 1
    await session.flush()
    return started


def parse_report(detail: str) -> dict[str, dict[str, Any]]:
    """Per device: ``state`` and the ``extra`` and ``missing`` PINs of a ``roster_check`` result."""
    try:
        devices = json.loads(detail)["devices"]
        assert isinstance(devices, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        return {}
    report = {}
    for device, text in devices.items():
        status, _, reason = str(text).partition(": ")
        parts = dict(p.strip().partition("=")[::2] for p in reason.split(";") if "=" in p)
        report[str(device)] = {
            "state": status,
            "extra": [p for p in parts.get("extra", "").split(",") if p],
            "missing": [p for p in parts.get("missing", "").split(",") if p],
        }
    return report


async def apply_checks(session: AsyncSession, org_id: int) -> int:
    """Take in the answers of open checks; returns how many were applied."""
    runs = list(
        (
            await session.execute(
                select(RosterCheckRun).where(
                    RosterCheckRun.org_id == org_id, RosterCheckRun.applied_at.is_(None)
                )
            )
        ).scalars()
    )
    if not runs:
        return 0
    since = min(r.created_at for r in runs) - CLOCK_SKEW
    rows = await session.execute(
        select(AgentEvent.data).where(
            AgentEvent.agent_pk.in_({r.agent_pk for r in runs}),
            AgentEvent.kind == sync.EventKind.CMD_RESULT.value,
            AgentEvent.device == AGENT_DEVICE,
            AgentEvent.occurred_at >= since,
        )
    )
    details = {d.get("cmd_id"): str(d.get("detail", "")) for d in rows.scalars()}
    applied = 0
    for run in runs:
        if run.cmd_id in details:
            run.report, run.applied_at = parse_report(details[run.cmd_id]), utc_now()
            await _mark_missing(session, run)
            applied += 1
    await session.flush()
    return applied


async def _mark_missing(session: AsyncSession, run: RosterCheckRun) -> None:
    for device, found in (run.report or {}).items():
        if not found["missing"]:
            continue
        rows = await session.execute(
            select(RosterDevice)
            .join(RosterTarget, RosterTarget.id == RosterDevice.target_id)
            .where(
                RosterTarget.agent_pk == run.agent_pk,
                RosterTarget.pin.in_(found["missing"]),
                RosterTarget.intended.is_not(None),
                RosterDevice.device == device,
            )
        )
        for row in rows.scalars():
            row.state, row.reason, row.updated_at = DeviceState.FAILED, MISSING, utc_now()


async def findings(session: AsyncSession, org_id: int) -> list[Finding]:
    """The extra users of every agent's latest applied check, with the member of that PIN if any."""
    latest = (
        select(func.max(RosterCheckRun.id))
        .where(RosterCheckRun.org_id == org_id, RosterCheckRun.applied_at.is_not(None))
        .group_by(RosterCheckRun.agent_pk)
    )
    runs = await session.execute(
        select(RosterCheckRun, Agent.agent_id)
        .join(Agent, Agent.id == RosterCheckRun.agent_pk)
        .where(RosterCheckRun.id.in_(latest))
        .order_by(Agent.agent_id)
    )
    pins = await session.execute(
        select(Member.pin, Member.id).where(Member.org_id == org_id, Member.pin.is_not(None))
    )
    members: dict[str | None, int] = {pin: ident for pin, ident in pins.all()}
    found = []
    for run, agent_id in runs.all():
        for device, report in sorted((run.report or {}).items()):
            for pin in report["extra"]:
                seen = run.applied_at or run.created_at
                found.append(
                    Finding(
                        agent_id=agent_id, device=device, pin=pin, member_id=members.get(pin), seen_at=seen
                    )
                )
    return found
