"""Store one agent's batch as sets: a fixed number of statements whatever the batch's size.

Reads first, then writes (on PostgreSQL the reads are planned with their values, the writes keep
their generic plans: ``plan_cache``). What is new and admissible is decided by ``admission`` (three
selects), what its check-ins earn by ``attendance_sets`` (rule, shifts, calendar, standing entries
and point rules). Then: other events in one insert, rejects into quarantine, ledger rows in one
insert, balances in one upsert, and the punches inserted once, each with the ledger entry it earned.
About a dozen statements a batch; the results are those of the per-punch reference
(``store_per_punch``), row for row. The caller commits, then acks.
"""

from __future__ import annotations

import dataclasses
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db import pg_arrays, plan_cache
from cloud.db.models import Agent, AgentEvent, AttendancePunch
from cloud.domain.attendance import CHECK_IN_STATES
from cloud.domain.attendance_sets import CheckIn, decide_check_ins, record_scoring
from cloud.ingest import rows
from cloud.ingest.admission import NewPunch, admit
from cloud.ingest.quarantine import quarantine
from cloud.ingest.splitting import SplitBatch

_AGENT_EVENTS = cast(Table, AgentEvent.__table__)  # Core, not ORM: no per-row ORM work
_PUNCHES = cast(Table, AttendancePunch.__table__)  # Core, not ORM: no per-row ORM work
_PUNCH_COLUMNS = tuple(c.name for c in _PUNCHES.columns if c.name != "id")
_PG_INSERT_PUNCHES = pg_arrays.unnest_insert(_PUNCHES, _PUNCH_COLUMNS)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class StoreResult:
    acked_ids: tuple[str, ...]
    balances_changed: bool
    earned_by: frozenset[str] = frozenset()  # ids of the events that earned a ledger entry


async def store_batch(session: AsyncSession, agent: Agent, topic: str, batch: SplitBatch) -> StoreResult:
    """Insert what is new in ``batch`` and score its punches; returns the ids to ack once committed."""
    await plan_cache.reads_with_values(session)
    admitted = await admit(session, agent, batch)
    scoring = await decide_check_ins(session, agent.org_id, _check_ins(admitted.punches))
    await plan_cache.writes_generic(session)
    if admitted.others:
        others = [rows.other_event_row(agent, event) for event in admitted.others]
        await session.execute(insert(_AGENT_EVENTS), others)
    for reject in admitted.rejected:
        quarantine(session, topic, reject.raw, reject.error, reject.event_id)
    earned = await record_scoring(session, scoring)
    if admitted.punches:
        punches = [rows.punch_row(agent, p, earned.get(p.event.id)) for p in admitted.punches]
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(_PG_INSERT_PUNCHES, pg_arrays.column_arrays(punches, _PUNCH_COLUMNS))
        else:
            await session.execute(insert(_PUNCHES), punches)
    return StoreResult(
        acked_ids=admitted.acked_ids, balances_changed=bool(earned), earned_by=frozenset(earned)
    )


def _check_ins(punches: tuple[NewPunch, ...]) -> list[CheckIn]:
    return [
        CheckIn(event_id=p.event.id, member_id=p.member_id, occurred_at=p.event.occurred_at, seq=p.event.seq)
        for p in punches
        if p.member_id is not None and p.punch.state.value in CHECK_IN_STATES
    ]
