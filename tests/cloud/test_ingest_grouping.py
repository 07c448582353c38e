"""A run of one agent's queued batches stored in one transaction gives what storing them in turn gives.

Random deliveries (the equivalence test's generator: out of time order, duplicate ids, re-reads,
redelivered batches, refusals, NUL text) go once through ``handle_message`` batch by batch into one
database and once through ``apply_messages`` as one run into another; every table and every ack
must match. Only the ledger's id order may differ (``grouping``'s rule), so it is left out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db.session import SessionFactory, session_factory
from cloud.ingest.grouping import storable_as_one
from cloud.ingest.handling import apply_messages, handle_message, prepare_message
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.test_ingest_equivalence import _payloads as payloads_of
from tests.cloud.test_ingest_equivalence import _snapshot as snapshot_of
from tests.cloud.test_ingest_equivalence import _tenant as tenant_of
from tests.cloud.test_ingest_equivalence import random_deliveries, twin

__all__ = ["twin"]  # the fixture, imported for its use here

DAY = dt.date(2026, 11, 16)
_agents = itertools.count()


@random_deliveries(max_examples=25)
async def test_one_run_matches_the_batches_stored_in_turn(
    engine: AsyncEngine,
    twin: SessionFactory,
    specs: list[tuple[str, int, int, sync.PunchState, str, str, bool]],
    plan: list[tuple[int, str]],
    declared: tuple[str, ...] | None,
    bands: bool,
) -> None:
    payloads = payloads_of(specs, plan)
    agent_id = f"site-g{next(_agents)}"
    in_turn = await _run(session_factory(engine), agent_id, declared, bands, payloads, together=False)
    together = await _run(twin, agent_id, declared, bands, payloads, together=True)
    diff = {k: (together[k], in_turn[k]) for k in in_turn if together[k] != in_turn[k]}
    assert not diff, diff


async def test_a_run_in_time_order_is_stored_as_one_set(engine: AsyncEngine) -> None:
    """The run is really one pass (one member lookup for three batches); control: out of order, three."""
    ordered = [
        events.batch(events.punch(pin, events.local(DAY, 8, minute)))
        for minute, pin in [(1, "1"), (2, "2"), (3, "1")]
    ]
    lookups = _member_lookups(engine)
    stored = await _run(session_factory(engine), "site-o", None, False, ordered, together=True)
    assert len(lookups) == 1
    # Each batch says whether it moved balances itself: the third is member 1's second check-in.
    assert [changed for _, changed in stored["outcomes"]] == [True, True, False]
    reversed_pin = [
        events.batch(events.punch("1", events.local(DAY + dt.timedelta(days=1), 9 - h))) for h in range(3)
    ]
    lookups.clear()
    await _run(session_factory(engine), "site-r", None, False, reversed_pin, together=True)
    assert len(lookups) == 3


def test_storable_as_one_refuses_shared_ids_and_pins_out_of_time_order() -> None:
    first = events.punch("1", events.local(DAY, 8))
    later = events.punch("1", events.local(DAY, 9))
    other = events.punch("2", events.local(DAY, 7))
    split = [prepare_message(_topic("x"), events.batch(e)).batch for e in (first, later, other)]
    assert all(b is not None for b in split)
    one, two, three = (b for b in split if b is not None)
    assert storable_as_one([one, two, three])  # PIN 2's earlier punch does not matter to PIN 1
    assert not storable_as_one([two, one])  # PIN 1 back in time
    assert not storable_as_one([one, two, one])  # a redelivered batch


def _member_lookups(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(*args: Any) -> None:
        statement = str(args[2])
        if "FROM member" in statement and "member.pin" in statement:  # either engine's lookup
            seen.append(statement)

    return seen


async def _run(
    sessions: SessionFactory,
    agent_id: str,
    declared: tuple[str, ...] | None,
    bands: bool,
    payloads: list[bytes],
    *,
    together: bool,
) -> dict[str, Any]:
    async with sessions() as session:
        org_id = await tenant_of(session, agent_id, declared, bands)
        await session.commit()
    topic = _topic(agent_id)
    if together:
        outcomes = await apply_messages(sessions, [prepare_message(topic, p) for p in payloads])
    else:
        outcomes = [await handle_message(sessions, topic, p) for p in payloads]
    async with sessions() as session:
        snapshot = await snapshot_of(session, org_id, topic)
    del snapshot["ledger_order"]
    return snapshot | {"outcomes": [(o.ack, o.changed_org is not None) for o in outcomes]}


def _topic(agent_id: str) -> str:
    return sync.topic(agent_id, sync.Channel.EVENTS)
