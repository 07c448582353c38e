"""With a calendar (a night shift, a flexible shift with grace, a holiday), the set-based store still
gives exactly the per-punch reference's results (hypothesis, both engines)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db.models import CalendarDay, DayKind, Member, Shift, ShiftAssignment
from cloud.db.session import SessionFactory, session_factory
from cloud.ingest.handling import BatchStore, handle_message
from cloud.ingest.store import store_batch
from cloud.ingest.store_per_punch import store_batch_per_punch
from firmware_protocols import sync
from tests.cloud.test_ingest_equivalence import (
    START,
    _payloads,
    _snapshot,
    _tenant,
    deliveries,
    event_specs,
    twin,
)

__all__ = ["twin"]  # the fixture, used here
_agents = itertools.count()
HOLIDAY = START + dt.timedelta(days=2)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(event_specs, min_size=1, max_size=24), plan=deliveries)
async def test_set_store_matches_the_reference_with_a_calendar(
    engine: AsyncEngine,
    twin: SessionFactory,
    specs: list[tuple[str, int, int, sync.PunchState, str, str, bool]],
    plan: list[tuple[int, str]],
) -> None:
    agent_id = f"cal-{next(_agents)}"
    payloads = _payloads(specs, plan)
    reference = await _run(session_factory(engine), agent_id, payloads, store_batch_per_punch)
    ours = await _run(twin, agent_id, payloads, store_batch)
    assert ours == reference


async def _run(
    sessions: SessionFactory, agent_id: str, payloads: list[bytes], store: BatchStore
) -> dict[str, Any]:
    async with sessions() as session:
        org_id = await _tenant(session, agent_id, None, True)
        # Events fall between 08:00 and 12:00: before the night shift's 14:00 boundary (the previous
        # shift day), around the flexible shift's 09:00–10:00 window and its 10 minutes' grace.
        night = Shift(org_id=org_id, name="night", start=dt.time(22), end=dt.time(6), grace_minutes=5)
        flexible = Shift(
            org_id=org_id,
            name="flex",
            start=dt.time(9),
            end=dt.time(18),
            grace_minutes=10,
            flexible_minutes=60,
        )
        session.add_all(
            [night, flexible, CalendarDay(org_id=org_id, day=HOLIDAY, kind=DayKind.HOLIDAY.value)]
        )
        await session.flush()
        pins = select(Member.pin, Member.id).where(Member.org_id == org_id)
        members = {pin: member_id for pin, member_id in (await session.execute(pins)).all()}
        session.add_all(
            [
                ShiftAssignment(org_id=org_id, shift_id=night.id, member_id=members["2"]),
                ShiftAssignment(org_id=org_id, shift_id=flexible.id, member_id=members["3"]),
            ]
        )
        await session.commit()
    topic = sync.topic(agent_id, sync.Channel.EVENTS)
    outcomes = []
    for payload in payloads:
        outcome = await handle_message(sessions, topic, payload, store=store)
        outcomes.append((outcome.ack, outcome.changed_org is not None))
    async with sessions() as session:
        return {"outcomes": outcomes} | await _snapshot(session, org_id, topic)
