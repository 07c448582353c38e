"""ISAPI access events → normalised punches (PROTOCOLS.md §5). Tables, not if-chains.

Only "authentication passed" minors become punches; failed attempts and door events are not
attendance. The minor codes are [unverified] (sources differ); unknown ones are ignored and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from edge_agent.records import DeviceRecord
from firmware_protocols.isapi.acs_event import parse_time
from firmware_protocols.isapi.messages import AcsEventRecord
from firmware_protocols.sync import EventKind, Punch, PunchState, VerifyMode

# major 5 (event) minors that mean "this person was recognised" → how.
PUNCH_MINORS: Final[Mapping[int, VerifyMode]] = {
    1: VerifyMode.CARD,  # valid card
    38: VerifyMode.FINGERPRINT,  # fingerprint passed
    75: VerifyMode.FACE,  # face authentication passed
}
ATTENDANCE_STATES: Final[Mapping[str, PunchState]] = {
    "checkIn": PunchState.CHECK_IN,
    "checkOut": PunchState.CHECK_OUT,
    "breakOut": PunchState.BREAK_OUT,
    "breakIn": PunchState.BREAK_IN,
    "overtimeIn": PunchState.OVERTIME_IN,
    "overtimeOut": PunchState.OVERTIME_OUT,
    "undefined": PunchState.UNDEFINED,
}
MAJOR_EVENT: Final = 5


def is_punch(record: AcsEventRecord) -> bool:
    """A person was recognised (and the event names them)."""
    return record.major == MAJOR_EVENT and record.minor in PUNCH_MINORS and bool(record.employee_id)


def dedup_key(device_serial: str, record: AcsEventRecord) -> str:
    """(device serial, serialNo): the same event read by pull or stream gives the same key."""
    return f"{device_serial}|{record.serial_no}"


def to_device_record(
    device: str, device_serial: str, record: AcsEventRecord, *, clock_suspect: bool = False
) -> DeviceRecord:
    """One punch event → the outbox's record (no name, no picture: only the person id)."""
    key = dedup_key(device_serial, record)
    punch = Punch(
        pin=record.employee_id or "",
        verify_mode=PUNCH_MINORS.get(record.minor, VerifyMode.OTHER),  # the minor says how; currentVerifyMode
        # is the configured combination (e.g. cardOrFaceOrFp), kept raw in verify_code
        verify_code=f"{record.minor}:{record.verify_mode or ''}",
        state=ATTENDANCE_STATES.get(record.attendance_status or "", PunchState.UNDEFINED),
        state_code=record.attendance_status or "",
        dedup_key=key,
        similarity=None,
        clock_suspect=clock_suspect,
    )
    return DeviceRecord(
        kind=EventKind.PUNCH,
        device=device,
        occurred_at=parse_time(record.time),
        device_time=record.time,
        data=punch.to_data(),
        dedup_key=key,
    )
