"""What a driver hands to the outbox, and the outbox's promise back (the ``EventSink`` protocol).

Rule: ``EventSink.accept`` returns only once every record is durably on disk (fsynced), so a
driver may acknowledge or clear a device's buffer afterwards. A record the sink has seen before
(same device and ``dedup_key``) is accepted again without creating a second event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from firmware_protocols.sync import EventKind


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeviceRecord:
    """One event from a device, before the outbox gives it an id (UUIDv7) and a sequence number.

    ``occurred_at`` is the device time normalised to UTC; ``device_time`` the device's raw value as
    text. ``dedup_key`` is the device's own identity for the record (None: never deduplicated).
    """

    kind: EventKind
    device: str
    occurred_at: dt.datetime
    device_time: str
    data: Mapping[str, Any]
    dedup_key: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AcceptResult:
    """How many records became new events and how many were already known (duplicates)."""

    stored: int
    duplicates: int


class EventSink(Protocol):
    async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
        """Store ``records`` durably; return once they are on disk."""
        ...
