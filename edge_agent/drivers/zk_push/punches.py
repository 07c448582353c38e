"""ADMS records → DeviceRecords: punches with ZK codes, command results, address alerts. No names,
no pictures."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Final

from edge_agent.clock import DeviceClock
from edge_agent.records import DeviceRecord
from firmware_protocols import zk_push
from firmware_protocols.sync import (
    ZK_PUNCH_STATES,
    ZK_VERIFY_MODES,
    CommandResult,
    EventKind,
    Punch,
    PunchState,
    VerifyMode,
)

DEVICE_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
MAX_CODE_LEN: Final = 32  # sync.Punch pin / verify_code / state_code
MAX_DETAIL_LEN: Final = 2000


def fits_contract(record: zk_push.AttRecord) -> bool:
    """False for a record the cloud contract cannot carry (over-long PIN or codes)."""
    return all(len(text) <= MAX_CODE_LEN for text in (record.pin, record.status, record.verify, record.time))


def punch_dedup_key(sn: str, record: zk_push.AttRecord) -> str:
    """The terminal's identity for a punch (PROTOCOLS.md §3.2): SN|PIN|time|status|verify."""
    return f"{sn}|{record.pin}|{record.time}|{record.status}|{record.verify}"


def punch_record(
    device: str,
    sn: str,
    record: zk_push.AttRecord,
    zone: zoneinfo.ZoneInfo,
    received_at: dt.datetime,
    clock: DeviceClock,
) -> DeviceRecord:
    """A PUNCH record; a time that cannot be read or that ``clock`` finds implausible keeps the
    punch, flagged ``clock_suspect`` (feed one terminal's records to its ``clock`` in upload order)."""
    occurred_at = local_to_utc(record.time, zone)
    suspect = occurred_at is None or clock.judge(occurred_at, now=received_at) is not None
    key = punch_dedup_key(sn, record)
    punch = Punch(
        pin=record.pin,
        verify_mode=ZK_VERIFY_MODES.get(_code(record.verify), VerifyMode.OTHER),
        verify_code=record.verify,
        state=ZK_PUNCH_STATES.get(_code(record.status), PunchState.UNDEFINED),
        state_code=record.status,
        dedup_key=key,
        clock_suspect=suspect,
    )
    return DeviceRecord(
        kind=EventKind.PUNCH,
        device=device,
        occurred_at=occurred_at or received_at,
        device_time=record.time,
        data=punch.to_data(),
        dedup_key=key,
    )


def local_to_utc(text: str, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A terminal's local ``YYYY-MM-DD HH:MM:SS`` in UTC, or None when it is not such a time."""
    try:
        local = dt.datetime.strptime(text, DEVICE_TIME_FORMAT)  # noqa: DTZ007 - the zone is attached next
    except ValueError:
        return None
    try:
        return local.replace(tzinfo=zone).astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01 00:00:00 east of UTC has no UTC time
        return None


def _code(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else -1


def result_record(
    device: str, sn: str, result: zk_push.CommandResult, cmd_id: str, received_at: dt.datetime
) -> DeviceRecord:
    """A CMD_RESULT record for one devicecmd line."""
    detail = f"{result.cmd} return={result.return_code}"
    if result.extra:
        detail += " " + " ".join(f"{key}={value}" for key, value in result.extra)
    data = CommandResult(cmd_id=cmd_id, ok=result.ok, detail=detail[:MAX_DETAIL_LEN])
    return DeviceRecord(
        kind=EventKind.CMD_RESULT,
        device=device,
        occurred_at=received_at,
        device_time="",
        data=data.to_data(),
        dedup_key=f"{sn}|cmd|{result.id}|{result.return_code}",
    )


def address_alert_record(device: str, sn: str, address: str, expected: str, at: dt.datetime) -> DeviceRecord:
    """A DEVICE_ALERT record: a request for terminal ``sn`` came from ``address``, not ``expected``.

    Deduplicated per SN, address and hour, so a flood from one address is one alert an hour.
    """
    data = {"alert": "wrong_address", "sn": sn, "address": address, "expected": expected}
    return DeviceRecord(
        kind=EventKind.DEVICE_ALERT,
        device=device,
        occurred_at=at,
        device_time="",
        data=data,
        dedup_key=f"{sn}|wrong_address|{address}|{at:%Y-%m-%dT%H}",
    )
