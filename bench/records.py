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
# Backlog days start here: 1M punches are 500 days, all in the past and before the days that the
# cloud ingest bench scores (from 2026-01-01), so no backlog punch meets one of those.
HISTORY_START: Final = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


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


def site_day_record(n: int, members: int = 1000) -> DeviceRecord:
    """The ``n``-th punch of a site's history: every member checks in (08:50) and out (18:05) each day.

    A backlog after an outage looks like this: days of ordinary punches, two per member per day, so
    the cloud meets as many first check-ins as check-outs, not one member punching all day long.
    """
    day, rest = divmod(n, 2 * members)
    leaving, member = divmod(rest, members)
    local = dt.timedelta(hours=18, minutes=5) if leaving else dt.timedelta(hours=8, minutes=50)
    at = HISTORY_START + dt.timedelta(days=day) + local - dt.timedelta(hours=8)
    at += dt.timedelta(seconds=member % 60)
    pin = str(1 + member)
    state, code = (PunchState.CHECK_OUT, "1") if leaving else (PunchState.CHECK_IN, "0")
    key = f"CKUX0001|{pin}|{at.isoformat()}|{code}"
    data = Punch(
        pin=pin,
        verify_mode=VerifyMode.FINGERPRINT,
        verify_code="1",
        state=state,
        state_code=code,
        dedup_key=key,
    ).to_data()
    return DeviceRecord(
        kind=EventKind.PUNCH,
        device=DEVICE,
        occurred_at=at,
        device_time=(at + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S"),
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
