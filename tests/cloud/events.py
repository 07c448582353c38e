"""Build contract messages the way an agent does (UUIDv7 ids, UTC times) for ingest tests."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from zoneinfo import ZoneInfo

from firmware_protocols import sync

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def uuid7() -> str:
    """A UUIDv7: 48-bit Unix milliseconds, version 7, RFC 4122 variant, random rest."""
    millis = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock time as an aware datetime."""
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


def punch(pin: str, at: dt.datetime, state: sync.PunchState = sync.PunchState.CHECK_IN) -> sync.Event:
    data = sync.Punch(
        pin=pin,
        verify_mode=sync.VerifyMode.FINGERPRINT,
        verify_code="1",
        state=state,
        state_code="0",
        dedup_key=f"SN1|{pin}|{at.isoformat()}|0",
    )
    return sync.Event(
        id=uuid7(),
        seq=next(_seq),
        kind=sync.EventKind.PUNCH.value,
        device="zk-1",
        occurred_at=at.astimezone(dt.UTC),
        device_time=at.strftime("%Y-%m-%d %H:%M:%S"),
        received_at=dt.datetime.now(dt.UTC),
        data=data.to_data(),
    )


def batch(*events: sync.Event) -> bytes:
    return sync.encode(sync.EventBatch(batch_id=uuid7(), events=events))
