"""Several batches of one agent stored in one pass, when that gives what storing them in turn gives.

A backlog arrives as many batches of the same agent queued back to back. Storing a run of them as
one set (one admission, one scoring pass, one insert per table) costs the statements of one batch.

Rule: the run is stored as one set only when that is exactly storing its batches one after the
other (``store_batch`` each, in arrival order). That holds when
- no event id and no device record identity (``dedup_key``) appears in two batches of the run
  (a redelivered batch, or a re-read whose first copy was refused, must see the first copy's fate);
- every PIN's punches come in time order across the batches (the set pass scores in time order;
  in turn, a later batch's earlier check-in would instead correct the day's entry).
Otherwise the batches are stored in turn, still in the one transaction. Each batch keeps its own
ack. Only the ledger's id order may differ from storing in turn (ids follow time order across the
whole run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent
from cloud.ingest.admission import acked_ids
from cloud.ingest.splitting import SplitBatch
from cloud.ingest.store import StoreResult, store_batch
from firmware_protocols import sync

_Order = tuple[dt.datetime, int]  # how the set pass orders check-ins: (occurred_at, seq)


async def store_batches(
    session: AsyncSession, agent: Agent, topic: str, batches: Sequence[SplitBatch]
) -> list[StoreResult]:
    """Store ``batches`` (one agent's, in arrival order) in the caller's transaction; one result each."""
    if len(batches) > 1 and storable_as_one(batches):
        merged = SplitBatch(
            batch_id=batches[0].batch_id,
            events=tuple(e for b in batches for e in b.events),
            rejected=tuple(r for b in batches for r in b.rejected),
        )
        earned = (await store_batch(session, agent, topic, merged)).earned_by
        return [_result_of(batch, earned) for batch in batches]
    return [await store_batch(session, agent, topic, batch) for batch in batches]


def _result_of(batch: SplitBatch, earned: frozenset[str]) -> StoreResult:
    """A batch's own part of a run's result: its acks, and whether its own events earned."""
    own = earned.intersection(e.id for e in batch.events)
    return StoreResult(acked_ids=acked_ids(batch), balances_changed=bool(own), earned_by=own)


def storable_as_one(batches: Sequence[SplitBatch]) -> bool:
    """Whether one set pass over ``batches`` equals storing them in turn (the module's rule)."""
    ids: set[str] = set()
    keys: set[str] = set()
    latest: dict[str, _Order] = {}  # per PIN: the latest punch of the batches before this one
    for batch in batches:
        batch_ids = {e.id for e in batch.events} | {r.event_id for r in batch.rejected if r.event_id}
        batch_keys: set[str] = set()
        earliest: dict[str, _Order] = {}
        newest: dict[str, _Order] = {}
        for event in batch.events:
            if event.kind != sync.EventKind.PUNCH:
                continue
            pin, key = event.data.get("pin"), event.data.get("dedup_key")
            if isinstance(key, str):
                batch_keys.add(key)
            if not isinstance(pin, str):
                continue
            order = (event.occurred_at, event.seq)
            earliest[pin] = min(earliest.get(pin, order), order)
            newest[pin] = max(newest.get(pin, order), order)
        if ids & batch_ids or keys & batch_keys:
            return False
        if any(pin in latest and order < latest[pin] for pin, order in earliest.items()):
            return False
        ids |= batch_ids
        keys |= batch_keys
        for pin, order in newest.items():
            latest[pin] = max(latest.get(pin, order), order)
    return True
