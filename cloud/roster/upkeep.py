"""The roster's background task inside ``mpm-cloud serve``. Every ``RECEIPTS_PERIOD_S``: receipts are
taken in, finished erasures closed (nobody needs to read the API), and a change the online agent never
answered, or one that waited for a terminal now back up, is sent again (``sync._send_again``). Once
every ``RECONCILE_PERIOD_S``: every agent is asked to read its terminals (``roster_check``) and what
failed or waited for an offline terminal is sent again. A failed pass is logged; the next runs as planned.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import DeviceState, RosterDevice, RosterTarget
from cloud.db.session import SessionFactory
from cloud.roster.intake import take_receipts
from cloud.roster.notify import Publisher, wake
from cloud.roster.reconcile import start_checks
from cloud.roster.sync import sync_members

log = logging.getLogger(__name__)

RECEIPTS_PERIOD_S: Final = 30.0
RECONCILE_PERIOD_S: Final = 24 * 3600.0


async def upkeep_once(sessions: SessionFactory, publisher: Publisher | None, *, reconcile: bool) -> int:
    """One pass over every organisation with a roster; returns the erasure requests closed."""
    async with sessions() as session:
        orgs = list((await session.execute(select(RosterTarget.org_id).distinct())).scalars())
    closed = 0
    for org_id in orgs:
        async with sessions() as session:
            closed += (await take_receipts(session, org_id))[1]
            queued = await sync_members(session, org_id, await _awaiting_receipts(session, org_id))
            if reconcile:
                queued += await sync_members(session, org_id, retry=True)
                queued += await start_checks(session, org_id)
            await session.commit()
        if queued:
            wake(publisher, org_id)
    return closed


async def upkeep(sessions: SessionFactory, publisher: Publisher | None) -> None:
    """Run ``upkeep_once`` forever: a reconciliation first, then on its period."""
    clock = asyncio.get_running_loop().time
    next_reconcile = clock()
    while True:
        reconcile = clock() >= next_reconcile
        if reconcile:
            next_reconcile = clock() + RECONCILE_PERIOD_S
        try:
            await upkeep_once(sessions, publisher, reconcile=reconcile)
        except Exception:
            log.exception("roster upkeep failed; next pass in %.0f s", RECEIPTS_PERIOD_S)
        await asyncio.sleep(RECEIPTS_PERIOD_S)


async def _awaiting_receipts(session: AsyncSession, org_id: int) -> list[int]:
    """Members with a change not yet done everywhere: no receipt (lost commands are among them), or a
    terminal that was offline (it may be back)."""
    rows = await session.execute(
        select(RosterTarget.member_id)
        .join(RosterDevice, RosterDevice.target_id == RosterTarget.id)
        .where(
            RosterTarget.org_id == org_id,
            RosterDevice.state == DeviceState.PENDING,
        )
        .distinct()
    )
    return list(rows.scalars())
