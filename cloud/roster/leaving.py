"""An organisation that leaves (DEL-3) erases its people from every device before its data goes.

Phase one of ``DELETE /org``: every member the roster placed on a device gets an erasure request (the
same request as ``POST /roster/erasures``: deletion queued on every terminal, signs republished), and
the organisation's data stays until each request is verified on every device. Deleting first would
delete the very commands that carry the erasure out and retire the agents that run them. Phase two,
the deletion itself, is ``cloud.domain.org_deletion``; the caller may force it with requests still
open (an agent that will never return), and the report says how many were not confirmed.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import PrivacyRequest, RequestKind, RequestState, RosterTarget
from cloud.roster.receipts import refresh
from cloud.roster.requests import close_verified, request_erasure

REASON = "the organisation leaves"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeviceErasures:
    """Erasure requests of the leaving organisation: made by this call, still open, verified."""

    requested_now: int
    open: int
    verified: int


async def erase_from_devices(session: AsyncSession, org_id: int) -> DeviceErasures:
    """Take in receipts, close verified erasures, and request erasure for everyone still placed."""
    await refresh(session, org_id)
    await close_verified(session, org_id)
    targets = select(RosterTarget.member_id).where(RosterTarget.org_id == org_id)
    placed = set((await session.scalars(targets)).all())
    asked = set(
        (
            await session.scalars(
                select(PrivacyRequest.member_id).where(
                    PrivacyRequest.org_id == org_id, PrivacyRequest.kind == RequestKind.ERASURE
                )
            )
        ).all()
    )
    new = sorted(placed - asked)
    if new:
        await request_erasure(session, org_id, new, REASON)
    counts = dict(
        (
            await session.execute(
                select(PrivacyRequest.state, func.count())
                .where(PrivacyRequest.org_id == org_id, PrivacyRequest.kind == RequestKind.ERASURE)
                .group_by(PrivacyRequest.state)
            )
        ).all()
    )
    return DeviceErasures(
        requested_now=len(new),
        open=counts.get(RequestState.OPEN, 0),
        verified=counts.get(RequestState.CLOSED, 0),
    )
