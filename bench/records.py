"""Realistic records for the edge benchmarks: ZK punches as a driver hands them to the outbox."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Final

from edge_agent.ids import uuid7_str
from edge_agent.outbox.rows import EventRow, encode_data, to_row
from edge_agent.records import DeviceRecord
from firmware_protocols.sync import EventKind, Punch, PunchState, VerifyMode

_serial = itertools.count(1)
DEVICE: Final = "zk-lobby"


def punch_record() -> DeviceRecord:
    """A new punch with a dedup key never used before in this process."""
    n = next(_serial)
    at = dt.datetime(2026, 3, 2, 0, 55, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
    pin = str(1 + n % 1000)
    key = f"CKUX0001|{pin}|{at.isoformat()}|0"
    data = Punch(
        pin=pin,
        verify_mode=VerifyMode.FINGERPRINT,
        verify_code="1",
        state=PunchState.CHECK_IN,
        state_code="0",
        dedup_key=key,
    ).to_data()
    return DeviceRecord(
        kind=EventKind.PUNCH,
        device=DEVICE,
        occurred_at=at,
        device_time=at.strftime("%Y-%m-%d %H:%M:%S"),
        data=data,
        dedup_key=key,
    )


def event_rows(count: int, first_seq: int = 1) -> list[EventRow]:
    """Outbox rows for ``count`` new punches, exactly as the outbox would write them."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        record = punch_record()
        rows.append(
            to_row(record, seq=first_seq + i, event_id=uuid7_str(), received_at=now, data=encode_data(record))
        )
    return rows
