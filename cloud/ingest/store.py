"""Store one agent's events in one transaction: punches, other events, quarantined rejects.

Rules. An event already stored for the agent (``UNIQUE(agent, event_id)``) is skipped and acked
again; so is a punch whose device record identity (``dedup_key``) was stored before under another
id (a device log read twice): the second line of defence. An event holding text no database
column can store (NUL characters) is rejected like a malformed one, quarantined and acked, so it
never becomes a poison batch resent forever. New punches are resolved to members by PIN and
scored in time order (attendance → ledger → balances) in the same transaction; the caller
commits, then acks.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, AgentEvent, AttendancePunch, Member, MemberStatus, Organisation
from cloud.domain import attendance
from cloud.ingest.quarantine import quarantine
from cloud.ingest.splitting import RejectedEvent, SplitBatch
from firmware_protocols import sync


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class StoreResult:
    acked_ids: tuple[str, ...]
    balances_changed: bool


async def store_batch(session: AsyncSession, agent: Agent, topic: str, batch: SplitBatch) -> StoreResult:
    """Insert what is new in ``batch`` and score its punches; returns the ids to ack once committed."""
    rejected = list(batch.rejected)
    known = await _known_event_ids(session, agent.id, [e.id for e in batch.events])
    fresh = _first_of_each_id(e for e in batch.events if e.id not in known)
    parsed = _parse_punches(fresh, rejected)
    members = await _members_by_pin(session, agent.org_id, {p.pin for p in parsed.values()})
    seen_keys = await _known_dedup_keys(session, agent.id, {p.dedup_key for p in parsed.values()})
    unstorable = {r.event_id for r in rejected}
    punches: list[AttendancePunch] = []
    for event in fresh:
        punch = parsed.get(event.id)
        if punch is None:
            if event.kind != sync.EventKind.PUNCH and event.id not in unstorable:
                session.add(_other_event_row(agent, event))
            continue
        if punch.dedup_key in seen_keys:
            continue  # the device's own record identity was stored before: a re-read, not a new punch
        seen_keys.add(punch.dedup_key)
        punches.append(_punch_row(agent, event, punch, members.get(punch.pin)))
    session.add_all(punches)
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


async def _known_dedup_keys(session: AsyncSession, agent_pk: int, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    query = select(AttendancePunch.dedup_key).where(
        AttendancePunch.agent_pk == agent_pk, AttendancePunch.dedup_key.in_(keys)
    )
    return set((await session.execute(query)).scalars())


async def _members_by_pin(session: AsyncSession, org_id: int, pins: set[str]) -> dict[str, int]:
    if not pins:
        return {}
    query = select(Member.pin, Member.id).where(
        Member.org_id == org_id, Member.pin.in_(pins), Member.status == MemberStatus.ACTIVE
    )
    return {pin: member_id for pin, member_id in (await session.execute(query)).all() if pin is not None}


def _first_of_each_id(events: Iterable[sync.Event]) -> list[sync.Event]:
    return list({e.id: e for e in reversed(list(events))}.values())[::-1]


def _parse_punches(events: list[sync.Event], rejected: list[RejectedEvent]) -> dict[str, sync.Punch]:
    """Punch data by event id; events that cannot be stored go to ``rejected`` instead."""
    punches: dict[str, sync.Punch] = {}
    for event in events:
        if "\x00" in event.device + event.device_time + event.kind:
            rejected.append(_reject(event, "event: NUL characters cannot be stored"))
            continue
        if event.kind != sync.EventKind.PUNCH:
            continue
        try:
            punch = sync.Punch.from_data(event.data)
        except sync.SyncProtocolError as exc:
            rejected.append(_reject(event, str(exc)))
            continue
        if "\x00" in punch.pin + punch.dedup_key:
            rejected.append(_reject(event, "punch: NUL characters cannot be stored"))
            continue
        punches[event.id] = punch
    return punches


def _punch_row(agent: Agent, event: sync.Event, punch: sync.Punch, member_id: int | None) -> AttendancePunch:
    return AttendancePunch(
        org_id=agent.org_id,
        agent_pk=agent.id,
        event_id=event.id,
        seq=event.seq,
        device=event.device,
        pin=punch.pin,
        member_id=member_id,
        occurred_at=event.occurred_at,
        device_time=event.device_time,
        received_at=event.received_at,
        verify_mode=punch.verify_mode.value,
        state=punch.state.value,
        dedup_key=punch.dedup_key,
    )


def _other_event_row(agent: Agent, event: sync.Event) -> AgentEvent:
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


def _reject(event: sync.Event, error: str) -> RejectedEvent:
    return RejectedEvent(event_id=event.id, raw=json.dumps(event.to_json()).encode(), error=error)


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
