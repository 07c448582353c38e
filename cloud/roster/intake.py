"""Taking in what the agents answered: command receipts, reconciliation reports, finished erasures."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cloud.roster.receipts import refresh
from cloud.roster.reconcile import apply_checks
from cloud.roster.requests import close_verified


async def take_receipts(session: AsyncSession, org_id: int) -> tuple[int, int]:
    """Apply the organisation's new receipts and reports; returns (applied, erasure requests closed)."""
    applied = await refresh(session, org_id) + await apply_checks(session, org_id)
    return applied, await close_verified(session, org_id)
