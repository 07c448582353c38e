"""What the cloud acked, per device: the ack listeners' payload and the ``pending_keys`` query.

A driver that may clear a device's own log (ZK 4370 CLEAR_ATTLOG) must know that the cloud holds
every record it read. Two facts answer that, both kept by the outbox:

- a record was accepted: its ``(device, dedup_key)`` is in ``dedup``;
- its event was acked: its row is gone from ``events`` (rows are deleted only on the cloud's ack).

So a key is *pending* when it is not in ``dedup`` or its row is still in ``events``. This holds for
the must-keep kinds (punches, command results), which are never shed; a shed keep-latest row would
look acked, so nobody asks about those. A key pruned from ``dedup`` (after 30 days) reads as
pending again: the safe side.

Listeners are called after each ``Outbox.ack`` with the device and the dedup keys of the events it
deleted, grouped by device; they must not block (set an event, wake a task).
"""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
from collections.abc import Callable, Collection, Iterable
from typing import Final

log = logging.getLogger(__name__)

AckListener = Callable[[str, frozenset[str]], None]

ACK_SQL: Final = "DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))"
ACK_RETURNING_SQL: Final = ACK_SQL + " RETURNING device, json_extract(data, '$.dedup_key')"

# Scans the device's unacked rows (no index on device: the backlog is small while the cloud acks,
# and this runs once per pull, not per event).
PENDING_SQL: Final = """
SELECT k.value FROM json_each(?1) AS k
 WHERE NOT EXISTS (SELECT 1 FROM dedup WHERE dedup.device = ?2 AND dedup.key = k.value)
UNION
SELECT json_extract(e.data, '$.dedup_key') FROM events AS e
 WHERE e.device = ?2 AND json_extract(e.data, '$.dedup_key') IN (SELECT value FROM json_each(?1))
"""


def delete_acked(
    conn: sqlite3.Connection, event_ids: Collection[str], *, want_keys: bool
) -> tuple[int, dict[str, frozenset[str]]]:
    """Delete the acked rows; return how many, and (if ``want_keys``) their dedup keys by device."""
    ids = json.dumps(list(event_ids))
    if not want_keys:
        return conn.execute(ACK_SQL, (ids,)).rowcount, {}
    rows = conn.execute(ACK_RETURNING_SQL, (ids,)).fetchall()
    return len(rows), keys_by_device((str(device), key) for device, key in rows)


def keys_by_device(rows: Iterable[tuple[str, object]]) -> dict[str, frozenset[str]]:
    """Group ``(device, dedup_key or None)`` pairs; rows without a key are left out."""
    grouped: dict[str, set[str]] = collections.defaultdict(set)
    for device, key in rows:
        if isinstance(key, str):
            grouped[device].add(key)
    return {device: frozenset(keys) for device, keys in grouped.items()}


def notify(listeners: Iterable[AckListener], acked: dict[str, frozenset[str]]) -> None:
    """Tell every listener about every device's acked keys; a failing listener is logged, not fatal."""
    for listener in listeners:
        for device, keys in acked.items():
            try:
                listener(device, keys)
            except Exception:
                log.exception("ack listener %r failed for device %s", listener, device)


def pending_keys(conn: sqlite3.Connection, device: str, keys: Collection[str]) -> set[str]:
    """The keys among ``keys`` that the cloud has not acked yet for ``device``."""
    if not keys:
        return set()
    rows = conn.execute(PENDING_SQL, (json.dumps(sorted(keys)), device)).fetchall()
    return {str(row[0]) for row in rows}
