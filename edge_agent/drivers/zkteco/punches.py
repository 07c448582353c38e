"""Attendance records and realtime events → ``DeviceRecord``s for the outbox (PROTOCOLS.md §5).

Rule: a punch read from the log and the same punch received live give the same ``dedup_key``
(``serial|pin|raw local time|state``), so the sink stores it once. ZK times are the terminal's local
wall time; ``occurred_at`` attaches the configured zone and converts to UTC, ``device_time`` keeps
the raw text. ``clock_suspect`` is the driver's verdict on that time (``edge_agent/clock.py``);
it is not part of the dedup key, so a re-read judged differently is still the same punch.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from edge_agent.records import DeviceRecord
from firmware_protocols.sync import ZK_PUNCH_STATES, ZK_VERIFY_MODES, EventKind, Punch, PunchState, VerifyMode
from firmware_protocols.zkteco import AttendanceRecord, RealtimeAttendance

RAW_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def punch_record(
    *,
    device: str,
    serial: str,
    zone: ZoneInfo,
    record: AttendanceRecord | RealtimeAttendance,
    clock_suspect: bool = False,
) -> DeviceRecord:
    """The outbox record of one punch, from the log or from a live event."""
    raw_time = record.time.strftime(RAW_TIME_FORMAT)
    dedup_key = f"{serial}|{record.user_id}|{raw_time}|{record.state}"
    punch = Punch(
        pin=record.user_id,
        verify_mode=ZK_VERIFY_MODES.get(record.verify, VerifyMode.OTHER),
        verify_code=str(record.verify),
        state=ZK_PUNCH_STATES.get(record.state, PunchState.UNDEFINED),
        state_code=str(record.state),
        dedup_key=dedup_key,
        clock_suspect=clock_suspect,
    )
    return DeviceRecord(
        kind=EventKind.PUNCH,
        device=device,
        occurred_at=record.time.replace(tzinfo=zone).astimezone(dt.UTC),
        device_time=raw_time,
        data=punch.to_data(),
        dedup_key=dedup_key,
    )
