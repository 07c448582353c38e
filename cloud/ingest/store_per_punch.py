"""The reference store: the admitted batch through the ORM, scored punch by punch (``score_punch``).

Slow (about seven statements a punch) and kept on purpose: it is the plain statement of the rules
that the set-based store (``cloud.ingest.store``) must match row for row; the equivalence property
test runs both on the same batches.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, AgentEvent, AttendancePunch, Organisation
from cloud.domain import attendance
from cloud.ingest import rows
from cloud.ingest.admission import admit
from cloud.ingest.quarantine import quarantine
from cloud.ingest.splitting import SplitBatch
from cloud.ingest.store import StoreResult


async def store_batch_per_punch(
    session: AsyncSession, agent: Agent, topic: str, batch: SplitBatch
) -> StoreResult:
    """Insert what is new in ``batch`` and score its punches one by one; the caller commits, then acks."""
    admitted = await admit(session, agent, batch)
    for event in admitted.others:
        session.add(AgentEvent(**rows.other_event_row(agent, event)))
    punches = [AttendancePunch(**rows.punch_row(agent, new, None)) for new in admitted.punches]
    session.add_all(punches)
    for reject in admitted.rejected:
        quarantine(session, topic, reject.raw, reject.error, reject.event_id)
    await session.flush()
    changed = await _score(session, agent.org_id, punches)
    return StoreResult(acked_ids=admitted.acked_ids, balances_changed=changed)


async def _score(session: AsyncSession, org_id: int, punches: list[AttendancePunch]) -> bool:
    if not any(p.member_id for p in punches):
        return False
    org = await session.get_one(Organisation, org_id)
    changed = False
    for punch in attendance.first_check_ins_first(punches):
        entry = await attendance.score_punch(session, punch, org.time_zone)
        if entry is not None:
            punch.ledger_entry_id = entry.id
            changed = True
    return changed
