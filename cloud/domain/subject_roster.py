"""The subject export's roster, request and calendar sections (PRIVACY.md DSR-1, cloud/privacy/data_map.py).

- ``sites``: the sites the member belongs to by name (a department's link is about the department).
- ``credentials``: the credential kinds asked for the member, when an admin chose them.
- ``roster``: per agent and terminal, the record the roster intends (PIN, name as shown, credential
  kinds), the one read back from the terminal, and where the change stands (a retired agent's devices
  read ``retired``, as ``cloud.roster.progress`` reports them).
- ``roster_checks``: reconciliation reports that found the member's PIN extra on, or missing from, a
  terminal (the report's row for that terminal only; other people's PINs stay out).
- ``requests``: the member's data-subject requests, with their 30-day deadline.
- ``leave`` and ``shifts``: leave recorded for the member and the shift assigned to them by name.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import (
    Agent,
    LeaveRecord,
    Member,
    PrivacyRequest,
    RosterCheckRun,
    RosterCredentials,
    RosterDevice,
    RosterSiteLink,
    RosterTarget,
    Shift,
    ShiftAssignment,
    Site,
)
from cloud.roster.requests import RETIRED


async def roster_sections(session: AsyncSession, member: Member) -> dict[str, list[dict[str, Any]]]:
    """Every roster, request and calendar row about the member, section by section."""
    mid = member.id
    sites = await session.execute(
        select(RosterSiteLink.site_id, Site.name)
        .join(Site, Site.id == RosterSiteLink.site_id)
        .where(RosterSiteLink.member_id == mid)
        .order_by(RosterSiteLink.site_id)
    )
    credentials = await session.scalars(select(RosterCredentials).where(RosterCredentials.member_id == mid))
    requests = await session.scalars(
        select(PrivacyRequest).where(PrivacyRequest.member_id == mid).order_by(PrivacyRequest.id)
    )
    leave = await session.scalars(
        select(LeaveRecord).where(LeaveRecord.member_id == mid).order_by(LeaveRecord.id)
    )
    shifts = await session.execute(
        select(ShiftAssignment, Shift)
        .join(Shift, Shift.id == ShiftAssignment.shift_id)
        .where(ShiftAssignment.member_id == mid)
        .order_by(ShiftAssignment.id)
    )
    return {
        "sites": [{"member_id": mid, "site_id": s, "site_name": name} for s, name in sites.all()],
        "credentials": [
            {"member_id": c.member_id, "kinds": c.kinds, "updated_at": _iso(c.updated_at)}
            for c in credentials
        ],
        "roster": await _devices(session, mid),
        "roster_checks": await _checks(session, member),
        "requests": [
            {
                "id": r.id,
                "member_id": r.member_id,
                "kind": r.kind,
                "reason": r.reason,
                "state": r.state,
                "created_at": _iso(r.created_at),
                "due_at": _iso(r.due_at),
                "closed_at": _iso(r.closed_at),
            }
            for r in requests
        ],
        "leave": [
            {
                "id": x.id,
                "member_id": x.member_id,
                "first_day": x.first_day.isoformat(),
                "last_day": x.last_day.isoformat(),
                "reason": x.reason,
                "created_at": _iso(x.created_at),
            }
            for x in leave
        ],
        "shifts": [
            {
                "member_id": a.member_id,
                "shift_id": a.shift_id,
                "name": s.name,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
            }
            for a, s in shifts.all()
        ],
    }


async def _devices(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    # Outer join: a target not yet placed on any terminal still shows its intended record.
    rows = await session.execute(
        select(RosterTarget, RosterDevice, Agent.agent_id, Agent.retired_at)
        .join(Agent, Agent.id == RosterTarget.agent_pk)
        .outerjoin(RosterDevice, RosterDevice.target_id == RosterTarget.id)
        .where(RosterTarget.member_id == member_id)
        .order_by(Agent.agent_id, RosterDevice.device)
    )
    out = []
    for target, device, agent_id, retired_at in rows.all():
        row: dict[str, Any] = {
            "agent_id": agent_id,
            "member_id": target.member_id,
            "pin": target.pin,
            "intended": target.intended,
            "changed_at": _iso(target.changed_at),
            "device": None,
            "state": None,
            "reason": None,
            "verified": None,
            "updated_at": None,
        }
        if device is not None:
            row |= {
                "device": device.device,
                "state": RETIRED if retired_at is not None else device.state,
                "reason": device.reason,
                "verified": device.verified,
                "updated_at": _iso(device.updated_at),
            }
        out.append(row)
    return out


async def _checks(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    """Report rows naming the member's PIN. The database narrows the runs to reports whose text holds
    the PIN as a JSON string; which terminal and which list it is in is read from the JSON here."""
    if member.pin is None:
        return []
    quoted = json.dumps(member.pin)
    runs = await session.execute(
        select(RosterCheckRun, Agent.agent_id)
        .join(Agent, Agent.id == RosterCheckRun.agent_pk)
        .where(
            RosterCheckRun.org_id == member.org_id,
            cast(RosterCheckRun.report, String).contains(quoted, autoescape=True),
        )
        .order_by(RosterCheckRun.id)
    )
    found = []
    for run, agent_id in runs.all():
        for device, report in sorted((run.report or {}).items()):
            for finding in ("extra", "missing"):
                if member.pin in report.get(finding, []):
                    found.append(
                        {
                            "agent_id": agent_id,
                            "device": device,
                            "report": {"state": report.get("state"), finding: [member.pin]},
                            "applied_at": _iso(run.applied_at),
                        }
                    )
    return found


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
