"""The batch sender: outbox → ``EventBatch`` (QoS 1) with at most N batches awaiting the cloud's Ack.

Batches are encoded straight from the claimed rows (``sync.fast.encode_rows``): no ``Event`` per
row and no re-validation of ids the agent made itself. The batch size adapts: it starts at the
configured size, doubles while claims come back full (a backlog) up to ``MAX_BATCH_EVENTS``, and
falls back once the backlog is gone; ``MAX_BATCH_BYTES`` (a quarter of the contract's payload
limit) bounds every batch. Nothing lingers: when rows are committed and a slot is free the batch
goes out at once, so at a low rate each event travels alone and under load batches fill up.

Rules: rows are deleted only on the cloud's ``Ack`` (never on PUBACK, which only means the broker
has it). A batch not acked within ``ack_timeout_s`` has its leases released, so its rows go out
again in a new batch (the cloud is idempotent on event ids). ``HUNG_AFTER`` timeouts in a row while
connected mean the broker or the cloud is hung: ``LinkHung`` tears the connection down.

FAULT INJECTION / UNSAFE: ``MPM_UNSAFE_DELETE_ON_PUBACK=1`` deletes rows on PUBACK instead of
the cloud's Ack, which loses events the broker drops. Off by default; it exists only for the chaos
suite's control scenario (tests/chaos), which shows the checker detects that loss. (Not an
``MPM_AGENT_*`` name: those are configuration settings, and unknown ones are rejected.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Collection, Iterable
from typing import Final, Protocol

from edge_agent.ids import uuid7_str
from edge_agent.outbox.rows import EventRow
from firmware_protocols.sync import MAX_BATCH_EVENTS, Ack
from firmware_protocols.sync.fast import encode_rows
from firmware_protocols.sync.messages import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)

HUNG_AFTER: Final = 3
MAX_BATCH_BYTES: Final = MAX_PAYLOAD_BYTES // 4
UNSAFE_DELETE_ON_PUBACK_ENV: Final = "MPM_UNSAFE_DELETE_ON_PUBACK"


class LinkHung(Exception):
    """Acks stopped coming while connected: rebuild the connection."""


class Publisher(Protocol):
    async def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None: ...


class DrainedOutbox(Protocol):
    """What the sender needs of the outbox (the composition root passes ``Outbox``)."""

    def on_commit(self, listener: Callable[[], None]) -> None: ...

    async def claim_rows(self, limit: int, *, max_bytes: int | None = None) -> list[EventRow]: ...

    def release(self, event_ids: Iterable[str]) -> None: ...

    async def ack(self, event_ids: Collection[str]) -> int: ...


@dataclasses.dataclass(frozen=True, slots=True)
class _InFlight:
    event_ids: tuple[str, ...]
    deadline: float


class BatchSender:
    def __init__(
        self,
        outbox: DrainedOutbox,
        events_topic: str,
        *,
        batch_size: int,
        max_in_flight: int,
        ack_timeout_s: float,
    ) -> None:
        self._outbox, self._topic = outbox, events_topic
        self._batch_size, self._max_in_flight, self._ack_timeout_s = batch_size, max_in_flight, ack_timeout_s
        self._next_size = batch_size
        self._in_flight: dict[str, _InFlight] = {}
        self._wake = asyncio.Event()
        self._timeouts_in_a_row = 0
        self.batches_sent = 0
        self.batches_acked = 0
        self.ack_timeouts = 0
        self._unsafe_delete_on_puback = os.environ.get(UNSAFE_DELETE_ON_PUBACK_ENV) == "1"
        if self._unsafe_delete_on_puback:
            log.critical(
                "UNSAFE %s=1: rows are deleted on PUBACK; events WILL be lost", UNSAFE_DELETE_ON_PUBACK_ENV
            )
        outbox.on_commit(self._wake.set)

    async def run(self, client: Publisher) -> None:
        """Send while connected; on any exit release the in-flight leases for the next connection.

        Publishes run as tasks of their own (at most one per in-flight batch): the sender never
        waits for a PUBACK, which says only that the broker has the batch; a failed publish
        ends the task group and so the session.
        """
        self._timeouts_in_a_row = 0
        try:
            async with asyncio.TaskGroup() as publishes:
                while True:
                    self._expire_overdue()
                    if not await self._send_one(client, publishes):
                        await self._wait_for_work()
        finally:
            for flight in self._in_flight.values():
                self._outbox.release(flight.event_ids)
            self._in_flight.clear()

    async def on_ack(self, ack: Ack) -> int:
        """The cloud committed these ids: delete the rows, free the batch slot.

        The ids are checked canonical UUIDv7 text by the ack's decoder and used only as bound
        parameters of a DELETE by id: an id that is not ours deletes nothing.
        """
        deleted = await self._outbox.ack(ack.event_ids)
        if self._in_flight.pop(ack.batch_id, None) is not None:
            self.batches_acked += 1
        self._timeouts_in_a_row = 0
        self._wake.set()
        return deleted

    async def _send_one(self, client: Publisher, publishes: asyncio.TaskGroup) -> bool:
        # Clear first: a wake-up left set while every slot is taken would make run() spin without
        # ever yielding, starving the receiver of the very acks that free a slot.
        self._wake.clear()
        if len(self._in_flight) >= self._max_in_flight:
            return False
        asked = self._next_size
        rows = await self._outbox.claim_rows(asked, max_bytes=MAX_BATCH_BYTES)
        if not rows:
            self._next_size = self._batch_size
            return False
        self._adapt(asked, len(rows))
        batch_id = uuid7_str()
        event_ids = tuple(row[1] for row in rows)
        self._in_flight[batch_id] = _InFlight(event_ids, time.monotonic() + self._ack_timeout_s)
        payload = encode_rows(batch_id, rows)
        publishes.create_task(self._publish(client, batch_id, payload, event_ids), name=f"publish-{batch_id}")
        self.batches_sent += 1
        return True

    async def _publish(
        self, client: Publisher, batch_id: str, payload: bytes, event_ids: tuple[str, ...]
    ) -> None:
        await client.publish(self._topic, payload, qos=1)
        if self._unsafe_delete_on_puback:  # fault injection only (see the module docstring)
            self._in_flight.pop(batch_id, None)
            await self._outbox.ack(event_ids)

    def _adapt(self, asked: int, got: int) -> None:
        """Double the batch size while claims come back full; back to the configured size after."""
        if got >= asked:
            self._next_size = min(MAX_BATCH_EVENTS, max(asked * 2, self._batch_size))
        elif got < self._batch_size:
            self._next_size = self._batch_size

    def _expire_overdue(self) -> None:
        now = time.monotonic()
        for batch_id, flight in list(self._in_flight.items()):
            if flight.deadline <= now:
                del self._in_flight[batch_id]
                self._outbox.release(flight.event_ids)  # due again: resent in the next batch
                self.ack_timeouts += 1
                self._timeouts_in_a_row += 1
                log.warning("batch %s not acked in %.1fs; resending its rows", batch_id, self._ack_timeout_s)
        if self._timeouts_in_a_row >= HUNG_AFTER:
            raise LinkHung(f"{self._timeouts_in_a_row} batches in a row were not acked")

    async def _wait_for_work(self) -> None:
        deadlines = [flight.deadline for flight in self._in_flight.values()]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            pass
