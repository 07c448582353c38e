"""Record factories for outbox tests."""

from __future__ import annotations

import datetime as dt

from edge_agent.records import DeviceRecord
from firmware_protocols.sync import EventKind

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def punch(n: int, *, device: str = "door", key: bool = True, pad: int = 0) -> DeviceRecord:
    return DeviceRecord(
        kind=EventKind.PUNCH,
        device=device,
        occurred_at=T0 + dt.timedelta(seconds=n),
        device_time=f"2026-03-01 16:00:{n % 60:02d}",
        data={"pin": str(n), "pad": "x" * pad},
        dedup_key=f"SN1|{n}|{n}|0" if key else None,
    )


def device_state(n: int, *, pad: int = 0) -> DeviceRecord:
    return DeviceRecord(
        kind=EventKind.DEVICE_STATE,
        device="door",
        occurred_at=T0 + dt.timedelta(seconds=n),
        device_time="",
        data={"state": "up", "n": n, "pad": "x" * pad},
    )
