"""Handle one MQTT message from an agent: events → store + commit → ack; status → last status.

Two steps, so a worker can decode the next batch while one commits: ``prepare_message`` (topic and
batch decoding, CPU only) and ``apply_message`` (one transaction); ``handle_message`` does both.
``apply_messages`` applies one agent's queued messages in order, each run of event batches in one
transaction (``grouping.store_batches``); the outcomes, one per message, are published after it.

Every failure of the input ends in quarantine or a log line, never in an exception out of here,
except database trouble: then nothing is acked and the agent sends the batch again later.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import Agent
from cloud.db.session import SessionFactory
from cloud.ingest.grouping import store_batches
from cloud.ingest.quarantine import quarantine
from cloud.ingest.splitting import SplitBatch, split_batch
from cloud.ingest.store import StoreResult, store_batch
from firmware_protocols import sync

log = logging.getLogger(__name__)

# Two workers may race on the same redelivered batch: the loser's commit fails on the UNIQUE
# constraint and a retry then finds the events stored.
MAX_ATTEMPTS = 3

# How a batch is stored: the set-based ``store_batch``, or the per-punch reference in tests.
BatchStore = Callable[[AsyncSession, Agent, str, SplitBatch], Awaitable[StoreResult]]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What to do after the commit: publish ``ack`` (if any) and refresh the org's displays (if any)."""

    ack: sync.Ack | None = None
    changed_org: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Prepared:
    """A message decoded ahead of its transaction (pure CPU work, no database)."""

    topic: str
    payload: bytes
    agent_id: str | None  # None: the topic is not ours
    channel: sync.Channel | None
    batch: SplitBatch | None = None  # events: the split batch, unless its envelope is bad
    error: str | None = None  # why the topic or the envelope is refused


def prepare_message(topic: str, payload: bytes) -> Prepared:
    """Parse the topic and split an event batch; never raises on bad input."""
    try:
        agent_id, channel = sync.parse_topic(topic)
    except sync.SyncProtocolError as exc:
        return Prepared(topic=topic, payload=payload, agent_id=None, channel=None, error=str(exc))
    if channel is not sync.Channel.EVENTS:
        return Prepared(topic=topic, payload=payload, agent_id=agent_id, channel=channel)
    try:
        batch = split_batch(payload)
    except sync.SyncProtocolError as exc:
        return Prepared(topic=topic, payload=payload, agent_id=agent_id, channel=channel, error=str(exc))
    return Prepared(topic=topic, payload=payload, agent_id=agent_id, channel=channel, batch=batch)


async def handle_message(
    sessions: SessionFactory, topic: str, payload: bytes, *, store: BatchStore = store_batch
) -> Outcome:
    """Apply one message durably and say what to publish afterwards."""
    return await apply_message(sessions, prepare_message(topic, payload), store=store)


async def apply_message(
    sessions: SessionFactory, message: Prepared, *, store: BatchStore = store_batch
) -> Outcome:
    """Apply a prepared message durably (one transaction) and say what to publish afterwards."""
    if message.agent_id is None:
        return await _quarantined(sessions, message.topic, message.payload, message.error or "bad topic")
    if message.channel is sync.Channel.STATUS:
        return await _status(sessions, message.agent_id, message.payload)
    if message.channel is not sync.Channel.EVENTS:
        return Outcome()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await _events(sessions, message.agent_id, message, store)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
            log.info("concurrent insert of a batch from %s, retrying", message.agent_id)
    raise AssertionError("unreachable")


async def apply_messages(sessions: SessionFactory, messages: Sequence[Prepared]) -> list[Outcome]:
    """Apply one agent's messages in order; consecutive event batches share one transaction."""
    outcomes: list[Outcome] = []
    run: list[Prepared] = []
    for message in [*messages, None]:
        if message is not None and message.batch is not None and message.agent_id is not None:
            run.append(message)
            continue
        if len(run) > 1:
            outcomes += await _event_run(sessions, run)
        elif run:
            outcomes.append(await apply_message(sessions, run[0]))
        run = []
        if message is not None:
            outcomes.append(await apply_message(sessions, message))
    return outcomes


async def _event_run(sessions: SessionFactory, run: list[Prepared]) -> list[Outcome]:
    """Event batches of one agent in one transaction; one by one if that fails or the agent is not live."""
    agent_id = run[0].agent_id
    assert agent_id is not None, "a run holds event batches of one agent (one lane)"
    for _ in range(MAX_ATTEMPTS):
        try:
            outcomes = await _events_together(sessions, agent_id, run)
        except IntegrityError:
            log.info("concurrent insert of batches from %s, retrying", agent_id)
            continue
        if outcomes is not None:
            return outcomes
        break
    return [await apply_message(sessions, message) for message in run]


async def _events_together(
    sessions: SessionFactory, agent_id: str, run: list[Prepared]
) -> list[Outcome] | None:
    batches = [m.batch for m in run if m.batch is not None]
    async with sessions() as session:
        agent = await _agent(session, agent_id)
        if agent is None or agent.retired_at is not None:
            return None  # each message is quarantined on its own
        results = await store_batches(session, agent, run[0].topic, batches)
        org_id = agent.org_id
        await session.commit()
    return [
        Outcome(
            ack=sync.Ack(batch_id=batch.batch_id, event_ids=result.acked_ids) if result.acked_ids else None,
            changed_org=org_id if result.balances_changed else None,
        )
        for batch, result in zip(batches, results, strict=True)
    ]


async def _events(sessions: SessionFactory, agent_id: str, message: Prepared, store: BatchStore) -> Outcome:
    topic, payload = message.topic, message.payload
    async with sessions() as session:
        agent = await _agent(session, agent_id)
        if agent is None or agent.retired_at is not None:
            # Retired: stored nowhere and not acked, so the box keeps its events (re-enrol to recover).
            why = "unknown agent" if agent is None else "retired agent"
            quarantine(session, topic, payload, f"{why} {agent_id!r}")
            await session.commit()
            return Outcome()
        if message.batch is None:
            quarantine(session, topic, payload, message.error or "bad batch")
            await session.commit()
            return Outcome()
        batch = message.batch
        result = await store(session, agent, topic, batch)
        org_id = agent.org_id
        await session.commit()
    ack = sync.Ack(batch_id=batch.batch_id, event_ids=result.acked_ids) if result.acked_ids else None
    return Outcome(ack=ack, changed_org=org_id if result.balances_changed else None)


async def _status(sessions: SessionFactory, agent_id: str, payload: bytes) -> Outcome:
    try:
        sync.decode_status(payload)
    except sync.SyncProtocolError as exc:
        return await _quarantined(sessions, sync.topic(agent_id, sync.Channel.STATUS), payload, str(exc))
    async with sessions() as session:
        agent = await _agent(session, agent_id)
        if agent is None or agent.retired_at is not None:
            log.warning("status from unknown or retired agent %s ignored", agent_id)
            return Outcome()
        agent.last_status = json.loads(payload)
        agent.last_status_at = utc_now()
        await session.commit()
    return Outcome()


async def _quarantined(sessions: SessionFactory, topic: str, payload: bytes, error: str) -> Outcome:
    log.warning("quarantined a message on %s: %s", topic, error)
    async with sessions() as session:
        quarantine(session, topic, payload, error)
        await session.commit()
    return Outcome()


_AGENT = select(Agent).where(Agent.agent_id == bindparam("agent_id"))  # built once


async def _agent(session: AsyncSession, agent_id: str) -> Agent | None:
    return (await session.execute(_AGENT, {"agent_id": agent_id})).scalar_one_or_none()
