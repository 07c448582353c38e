"""Data-subject requests (PRIVACY.md DSR-1, DEL-1): access, correction and erasure, each with a 30-day clock.

An erasure wipes the member (``cloud.domain.members.erase``: personal fields gone, ledger kept under a
pseudonym), queues the deletion on every terminal that may hold them, and stays open until every one of
those devices is verified; then the PIN kept to delete them is blanked too. Access and correction
requests share the record; their content is produced elsewhere and they are closed by ``close``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import (
    Agent,
    DeviceState,
    LeaveRecord,
    Member,
    PrivacyRequest,
    RequestKind,
    RequestState,
    RosterCredentials,
    RosterDevice,
    RosterSiteLink,
    RosterTarget,
    ShiftAssignment,
)
from cloud.domain import members, ranking_version
from cloud.roster.receipts import ANY_DEVICE
from cloud.roster.sync import sync_members

ANSWER_WITHIN: Final = dt.timedelta(days=30)
RETIRED: Final = "retired"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeviceProgress:
    agent_id: str
    device: str
    state: str
    reason: str


def open_request(
    session: AsyncSession, org_id: int, member_id: int, kind: RequestKind, reason: str
) -> PrivacyRequest:
    """Record a request made now, due in 30 days. The caller flushes and commits."""
    now = utc_now()
    request = PrivacyRequest(
        org_id=org_id,
        member_id=member_id,
        kind=kind,
        reason=reason,
        created_at=now,
        due_at=now + ANSWER_WITHIN,
    )
    session.add(request)
    return request


def close(request: PrivacyRequest) -> None:
    """Mark an access or correction request answered."""
    request.state, request.closed_at = RequestState.CLOSED, utc_now()


async def request_erasure(
    session: AsyncSession, org_id: int, member_ids: Iterable[int], reason: str
) -> list[PrivacyRequest]:
    """Erase ``member_ids`` of ``org_id`` and fan the deletion out to every device; one request each.

    Members of another organisation are ignored. The caller commits, then wakes the publisher
    (``publisher.changed(org_id)`` and ``publisher.commands_queued()``) so signs drop them at once."""
    found = await session.execute(
        select(Member).where(Member.org_id == org_id, Member.id.in_(list(member_ids))).order_by(Member.id)
    )
    erased = list(found.scalars())
    for member in erased:
        members.erase(member)
    await session.flush()
    await sync_members(session, org_id, [m.id for m in erased])
    await _forget_member_rows(session, [m.id for m in erased])
    await ranking_version.bump(session, org_id)  # rankings and signs leave them out
    requests = [open_request(session, org_id, m.id, RequestKind.ERASURE, reason) for m in erased]
    await session.flush()
    await close_verified(session, org_id)
    return requests


async def progress(session: AsyncSession, member_id: int) -> list[DeviceProgress]:
    """Where the member stands on every device that held or should hold them; the devices of a retired
    agent read ``retired`` (the box was taken out of service; nothing will be sent to it again)."""
    return (await progress_of(session, [member_id])).get(member_id, [])


async def progress_of(session: AsyncSession, member_ids: list[int]) -> dict[int, list[DeviceProgress]]:
    """``progress`` of several members in one select (members on no device are left out)."""
    rows = await session.execute(
        select(
            RosterTarget.member_id,
            Agent.agent_id,
            Agent.retired_at,
            RosterDevice.device,
            RosterDevice.state,
            RosterDevice.reason,
        )
        .join(RosterTarget, RosterTarget.id == RosterDevice.target_id)
        .join(Agent, Agent.id == RosterTarget.agent_pk)
        .where(RosterTarget.member_id.in_(member_ids))
        .order_by(RosterTarget.member_id, Agent.agent_id, RosterDevice.device)
    )
    found: dict[int, list[DeviceProgress]] = {}
    for member_id, a, retired, d, s, r in rows.all():
        state = RETIRED if retired else s
        found.setdefault(member_id, []).append(DeviceProgress(agent_id=a, device=d, state=state, reason=r))
    return found


def erased_everywhere(devices: list[DeviceProgress]) -> bool:
    """Every device verified (or its agent retired), none still unnamed."""
    return all(d.state in (DeviceState.VERIFIED, RETIRED) and d.device != ANY_DEVICE for d in devices)


async def close_verified(session: AsyncSession, org_id: int) -> int:
    """Close the open erasures whose every device is verified; returns how many closed (at most three
    selects, however many are open)."""
    open_erasures = await session.execute(
        select(PrivacyRequest).where(
            PrivacyRequest.org_id == org_id,
            PrivacyRequest.kind == RequestKind.ERASURE,
            PrivacyRequest.state == RequestState.OPEN,
        )
    )
    requests = list(open_erasures.scalars())
    if not requests:
        return 0
    devices = await progress_of(session, [r.member_id for r in requests])
    done = [r for r in requests if erased_everywhere(devices.get(r.member_id, []))]
    for request in done:
        close(request)
    if done:
        targets = await session.execute(
            select(RosterTarget).where(RosterTarget.member_id.in_([r.member_id for r in done]))
        )
        for target in targets.scalars():
            target.pin = None  # nothing left to delete: the agents' tombstones keep the rest
    await session.flush()
    return len(done)


async def _forget_member_rows(session: AsyncSession, member_ids: list[int]) -> None:
    """DEL-1: the rows that exist only about the person go with them (after the roster planned their
    removal from the terminals): leave (its reason is free text, often about health), their own shift,
    credential kinds and site links. The erasure request stays: it is the record of what was done."""
    for model in (LeaveRecord, ShiftAssignment, RosterCredentials, RosterSiteLink):
        await session.execute(delete(model).where(model.member_id.in_(member_ids)))
