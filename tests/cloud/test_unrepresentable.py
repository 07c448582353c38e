"""Issue 9, done-when (cloud side): each unrepresentable value in one event of a batch is quarantined
alone and acked; its valid neighbours in the same batch are stored and acked.

Table-driven, on SQLite and PostgreSQL (``handle_message`` against the real database), and once
through a real Mosquitto and the real ingest worker. Each row puts one value into one field of the
middle event of three, as an agent (or an attacker on the broker) could send it. The control rows
hold values at the very edge of what the contract carries: they are stored like any other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from cloud.db.models import Agent, AttendancePunch, Quarantine
from cloud.db.session import SessionFactory
from cloud.ingest.handling import Outcome, handle_message
from cloud.ingest.quarantine import PREFIX_BYTES
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.test_attendance import DAY, TOPIC, setup
from tests.cloud.test_ingest import Rig, rig

__all__ = ["rig"]  # the real-broker fixture, used by the last test


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    path: tuple[str, ...]  # field of the event JSON (data.* for inside the punch data)
    text: str  # JSON text put there verbatim
    error: str  # the field the quarantine error names


# json.dumps escapes a lone surrogate as \udXXX, exactly as it travels; NaN/Infinity as the bare tokens.
BAD: tuple[Case, ...] = (
    Case("time overflows UTC going up", ("occurred_at",), '"9999-12-31T23:59:00-14:00"', "occurred_at"),
    Case("time overflows UTC going down", ("received_at",), '"0001-01-01T00:00:00+14:00"', "received_at"),
    Case("time without offset", ("occurred_at",), '"2026-11-16T08:00:00"', "occurred_at"),
    Case("seq past BigInteger", ("seq",), str(2**63), "seq"),
    Case("seq past 64 bits", ("seq",), str(2**64), "seq"),
    Case("seq of 5,000 digits", ("seq",), "9" * 5000, "seq"),
    Case("negative seq", ("seq",), "-1", "seq"),
    Case("NaN", ("data", "similarity"), "NaN", "data.similarity"),
    Case("Infinity", ("data", "similarity"), "Infinity", "data.similarity"),
    Case("-Infinity", ("data", "similarity"), "-Infinity", "data.similarity"),
    Case("1e400 (parses to infinity)", ("data", "similarity"), "1e400", "data.similarity"),
    Case("lone high surrogate in a string field", ("device",), json.dumps("zk\ud800"), "device"),
    Case("lone low surrogate in data", ("data", "pin"), json.dumps("\udc001"), "data.pin"),
    Case("lone surrogate in a data key", ("data", "\ud83d"), "1", "data (a key)"),
    Case("oversize device name", ("device",), json.dumps("d" * 65), "device"),
    Case("oversize pin", ("data", "pin"), json.dumps("7" * 33), "pin"),
)
CONTROL: tuple[Case, ...] = (
    Case("latest time (scored too)", ("occurred_at",), '"9999-12-30T23:59:59.999999Z"', ""),
    Case("earliest time (scored too)", ("occurred_at",), '"0001-01-02T00:00:00Z"', ""),
    Case("earliest time, with an offset", ("received_at",), '"0001-01-02T14:00:00+14:00"', ""),
    Case("largest seq", ("seq",), str(2**63 - 1), ""),
    Case("astral character (a valid surrogate pair)", ("device",), json.dumps("zk-\U0001f600"), ""),
    Case("longest device name", ("device",), json.dumps("d" * 64), ""),
)
MARKER = "@@value@@"


def batch_with(case: Case, minute: int = 0) -> tuple[bytes, list[sync.Event]]:
    """Three punches (PINs 1, 2, 1; from 08:``minute``) as JSON text, ``case``'s value in the middle one.

    The batch id is the first event's id (so a test can find the ack without parsing the payload).
    """
    good = [events.punch(pin, events.local(DAY, 8, minute + i)) for i, pin in enumerate("121")]
    body = json.loads(sync.encode(sync.EventBatch(batch_id=good[0].id, events=tuple(good))))
    target: dict[str, Any] = body["events"][1]
    for step in case.path[:-1]:
        target = target[step]
    target[case.path[-1]] = MARKER
    text = json.dumps(body).replace(json.dumps(MARKER), case.text)
    return text.encode(), good


async def quarantined(sessions: SessionFactory) -> list[Quarantine]:
    async with sessions() as session:
        return list((await session.execute(select(Quarantine).order_by(Quarantine.id))).scalars())


async def stored_ids(sessions: SessionFactory) -> set[str]:
    async with sessions() as session:
        return set((await session.execute(select(AttendancePunch.event_id))).scalars())


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
async def test_one_unrepresentable_value_is_quarantined_alone(sessions: SessionFactory, case: Case) -> None:
    await setup(sessions)
    payload, (first, bad, last) = batch_with(case)
    outcome = await handle_message(sessions, TOPIC, payload)
    assert outcome.ack is not None
    assert set(outcome.ack.event_ids) == {first.id, bad.id, last.id}  # the bad one too: it is kept
    assert await stored_ids(sessions) == {first.id, last.id}
    [kept] = await quarantined(sessions)
    assert kept.event_id == bad.id
    assert case.error in kept.error
    assert kept.payload_size == len(kept.payload_prefix)  # one event: well under the prefix bound
    assert kept.payload_sha256 == hashlib.sha256(kept.payload_prefix).hexdigest()
    again = await handle_message(sessions, TOPIC, payload)  # redelivery: acked again, nothing new stored
    assert again.ack == outcome.ack
    assert await stored_ids(sessions) == {first.id, last.id}


@pytest.mark.parametrize("case", CONTROL, ids=[c.name for c in CONTROL])
async def test_values_at_the_edge_of_the_contract_are_stored(sessions: SessionFactory, case: Case) -> None:
    await setup(sessions)
    payload, good = batch_with(case)
    outcome = await handle_message(sessions, TOPIC, payload)
    assert outcome.ack is not None
    assert set(outcome.ack.event_ids) == {e.id for e in good}
    assert await stored_ids(sessions) == {e.id for e in good}
    assert await quarantined(sessions) == []


async def test_a_10_mb_payload_is_quarantined_once_as_prefix_size_and_hash(sessions: SessionFactory) -> None:
    await setup(sessions)
    payload, _ = batch_with(Case("huge", ("data", "pin"), json.dumps("9" * 10_000_000), ""))
    outcome = await handle_message(sessions, TOPIC, payload)
    assert outcome.ack is None  # past the contract's size the payload is not even parsed
    [kept] = await quarantined(sessions)
    assert (kept.payload_size, kept.payload_sha256) == (len(payload), hashlib.sha256(payload).hexdigest())
    assert kept.payload_prefix == payload[:PREFIX_BYTES]
    assert "exceeds" in kept.error
    good = events.batch(events.punch("1", events.local(DAY, 8, 0)))  # control: ingest goes on
    assert (await handle_message(sessions, TOPIC, good)).ack is not None


@pytest.mark.parametrize(
    "value",
    ['"at":"9999-12-31T23:59:00-14:00"', '"backlog_rows":9223372036854775808', '"oldest_unacked_age_s":NaN',
     '"agent_version":"\\ud800"', '"devices":{"\\udc00":"up"}'],
)  # fmt: skip
async def test_a_status_with_an_unrepresentable_value_is_quarantined(
    sessions: SessionFactory, value: str
) -> None:
    await setup(sessions)
    status_topic = sync.topic("site-1", sync.Channel.STATUS)
    good = json.loads(
        sync.encode(sync.AgentStatus(state="online", agent_version="1", at=events.local(DAY, 8)))
    )
    key = value.split('"')[1]
    text = json.dumps(good | {key: MARKER}).replace(json.dumps(key) + ": " + json.dumps(MARKER), value)
    assert await handle_message(sessions, status_topic, text.encode()) == Outcome()
    [kept] = await quarantined(sessions)
    assert kept.topic == status_topic
    async with sessions() as session:
        agent = (await session.execute(select(Agent))).scalar_one()
    assert agent.last_status is None
    await handle_message(sessions, status_topic, json.dumps(good).encode())  # control: a good one is kept
    async with sessions() as session:
        agent = (await session.execute(select(Agent))).scalar_one()
    assert agent.last_status == good


async def test_through_the_broker_only_the_bad_events_are_quarantined(rig: Rig) -> None:
    """Every bad row of the table as one batch each, over a real Mosquitto to the real ingest worker."""
    expected_stored: set[str] = set()
    for index, case in enumerate(BAD):
        payload, (first, bad, last) = batch_with(case, minute=3 * index)  # distinct device records
        await rig.send(payload)
        [ack] = await rig.ack_for(first.id)
        assert set(ack.event_ids) == {first.id, bad.id, last.id}, case.name
        expected_stored |= {first.id, last.id}
        async with rig.sessions() as session:
            count = (await session.execute(select(func.count()).select_from(Quarantine))).scalar_one()
            kept = (
                (await session.execute(select(Quarantine.event_id).order_by(Quarantine.id))).scalars().all()
            )
        assert (count, kept[-1]) == (index + 1, bad.id), case.name
    assert await stored_ids(rig.sessions) == expected_stored
