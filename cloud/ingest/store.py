"""Store one agent's events in one transaction: punches, other events, quarantined rejects.

Idempotent: an event id already stored for the agent (``UNIQUE(agent, event_id)``) is skipped and
acked again. New punches are resolved to members by PIN and scored in time order (attendance →
ledger → balances) inside the same transaction; the caller commits, then acks.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, AgentEvent, AttendancePunch, Organisation, Quarantine
from cloud.domain import attendance
from cloud.ingest.splitting import RejectedEvent, SplitBatch
from firmware_protocols import sync


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class StoreResult:
    acked_ids: tuple[str, ...]
    balances_changed: bool


def quarantine(
    session: AsyncSession, topic: str, payload: bytes, error: str, event_id: str | None = None
) -> None:
    """Keep a poison payload (or one bad event of a batch) for inspection; the caller commits."""
    try:
        text: str | None = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    session.add(
        Quarantine(topic=topic, payload=payload, payload_text=text, event_id=event_id, error=error[:2000])
    )


async def store_batch(session: AsyncSession, agent: Agent, topic: str, batch: SplitBatch) -> StoreResult:
    """Insert what is new in ``batch`` and score its punches; returns the ids to ack once committed."""
    rejected = list(batch.rejected)
    known = await _known_event_ids(session, agent.id, [e.id for e in batch.events])
    fresh = _first_of_each_id(e for e in batch.events if e.id not in known)
    punches: list[AttendancePunch] = []
    for event in fresh:
        row = await _row_for(session, agent, event, rejected)
        if row is not None:
            session.add(row)
        if isinstance(row, AttendancePunch):
            punches.append(row)
    for reject in rejected:
        quarantine(session, topic, reject.raw, reject.error, reject.event_id)
    await session.flush()
    changed = await _score(session, agent.org_id, punches)
    ids = [e.id for e in batch.events] + [r.event_id for r in batch.rejected if r.event_id]
    return StoreResult(acked_ids=tuple(dict.fromkeys(ids)), balances_changed=changed)


async def _known_event_ids(session: AsyncSession, agent_pk: int, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    punches = select(AttendancePunch.event_id).where(
        AttendancePunch.agent_pk == agent_pk, AttendancePunch.event_id.in_(ids)
    )
    others = select(AgentEvent.event_id).where(AgentEvent.agent_pk == agent_pk, AgentEvent.event_id.in_(ids))
    return set((await session.execute(punches)).scalars()) | set((await session.execute(others)).scalars())


def _first_of_each_id(events: Iterable[sync.Event]) -> list[sync.Event]:
    return list({e.id: e for e in reversed(list(events))}.values())[::-1]


async def _row_for(
    session: AsyncSession, agent: Agent, event: sync.Event, rejected: list[RejectedEvent]
) -> AttendancePunch | AgentEvent | None:
    if event.kind != sync.EventKind.PUNCH:
        return AgentEvent(
            org_id=agent.org_id,
            agent_pk=agent.id,
            event_id=event.id,
            seq=event.seq,
            kind=event.kind,
            device=event.device,
            occurred_at=event.occurred_at,
            data=dict(event.data),
        )
    try:
        punch = sync.Punch.from_data(event.data)
    except sync.SyncProtocolError as exc:
        rejected.append(
            RejectedEvent(
                event_id=event.id,
                raw=json.dumps(event.to_json(), ensure_ascii=False).encode(),
                error=str(exc),
            )
        )
        return None
    member = await attendance.member_by_pin(session, agent.org_id, punch.pin)
    return AttendancePunch(
        org_id=agent.org_id,
        agent_pk=agent.id,
        event_id=event.id,
        seq=event.seq,
        device=event.device,
        pin=punch.pin,
        member_id=member.id if member else None,
        occurred_at=event.occurred_at,
        device_time=event.device_time,
        received_at=event.received_at,
        verify_mode=punch.verify_mode.value,
        state=punch.state.value,
        dedup_key=punch.dedup_key,
    )


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
