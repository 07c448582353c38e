"""Fixed-layout records carried in 4370 packets: users, attendance, realtime events, sizes.

Layouts (little endian, PROTOCOLS.md §2.2): user 72 bytes ``<H B 8s 24s I x 7s x 24s>`` (ZK8/TFT) or
28 bytes ``<H B 5s 8s I x B h I>`` (ZK6); attendance 40 bytes ``<H 24s B I B 8s>`` (older: 8 and 16
bytes, decode only); realtime EF_ATTLOG ``<24s B B 6s>`` plus 0 or 4 extra bytes. Text fields are
NUL-padded in the caller's encoding; decoding replaces undecodable bytes instead of raising.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import struct
from typing import Final

from firmware_protocols.zkteco.errors import ZkLocalError, ZkRemoteError
from firmware_protocols.zkteco.timecode import decode_time, decode_time6, encode_time, encode_time6

USER72: Final = struct.Struct("<HB8s24sIx7sx24s")
USER28: Final = struct.Struct("<HB5s8sIxBhI")
ATT40: Final = struct.Struct("<H24sBIB8s")
ATT16: Final = struct.Struct("<IIBB2sI")
ATT8: Final = struct.Struct("<HBIB")
REALTIME: Final = struct.Struct("<24sBB6s")
REALTIME_SIZES: Final = frozenset({32, 36})  # pyzk 0.9 hangs on 33..35 and 37..51 (PROTOCOLS.md §2.3)
F19_RESERVED: Final = b"\x00\x00\x00\x00\xff\x00\x00\x00"


def pad(text: str, size: int, encoding: str, field: str) -> bytes:
    """Encode ``text`` NUL-padded to ``size`` bytes; raise if it does not fit."""
    if "\0" in text:
        raise ZkLocalError(f"{field} {text!r} contains NUL")
    try:
        raw = text.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise ZkLocalError(f"{field} {text!r} cannot be encoded: {exc}") from None
    if len(raw) > size:
        raise ZkLocalError(f"{field} {text!r} is longer than {size} bytes in {encoding}")
    return raw.ljust(size, b"\0")


def unpad(raw: bytes, encoding: str) -> str:
    """Text up to the first NUL, undecodable bytes replaced."""
    return raw.split(b"\0", 1)[0].decode(encoding, errors="replace")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UserRecord:
    """A user on the terminal: ``uid`` is the internal slot, ``user_id`` the PIN people type."""

    uid: int
    user_id: str
    name: str = ""
    privilege: int = 0
    password: str = ""
    card: int = 0
    group_id: str = ""


def encode_user72(user: UserRecord, encoding: str = "utf-8") -> bytes:
    """The 72-byte ZK8 user record."""
    try:
        return USER72.pack(
            user.uid,
            user.privilege,
            pad(user.password, 8, encoding, "password"),
            pad(user.name, 24, encoding, "name"),
            user.card,
            pad(user.group_id, 7, encoding, "group_id"),
            pad(user.user_id, 24, encoding, "user_id"),
        )
    except struct.error as exc:
        raise ZkLocalError(f"user {user.user_id!r}: {exc}") from None


def decode_user72(raw: bytes, encoding: str = "utf-8") -> UserRecord:
    """Decode a 72-byte ZK8 user record."""
    _need(raw, USER72.size, "user record")
    uid, privilege, password, name, card, group_id, user_id = USER72.unpack(raw)
    return UserRecord(
        uid=uid,
        privilege=privilege,
        password=unpad(password, encoding),
        name=unpad(name, encoding),
        card=card,
        group_id=unpad(group_id, encoding),
        user_id=unpad(user_id, encoding),
    )


def encode_user28(user: UserRecord, encoding: str = "utf-8") -> bytes:
    """The 28-byte ZK6 user record (numeric PIN and group)."""
    try:
        return USER28.pack(
            user.uid,
            user.privilege,
            pad(user.password, 5, encoding, "password"),
            pad(user.name, 8, encoding, "name"),
            user.card,
            int(user.group_id or "0"),
            0,
            int(user.user_id),
        )
    except (struct.error, ValueError) as exc:
        raise ZkLocalError(f"user {user.user_id!r} does not fit ZK6: {exc}") from None


def decode_user28(raw: bytes, encoding: str = "utf-8") -> UserRecord:
    """Decode a 28-byte ZK6 user record (its timezone field is dropped)."""
    _need(raw, USER28.size, "ZK6 user record")
    uid, privilege, password, name, card, group_id, _tz, user_id = USER28.unpack(raw)
    return UserRecord(
        uid=uid,
        privilege=privilege,
        password=unpad(password, encoding),
        name=unpad(name, encoding),
        card=card,
        group_id=str(group_id),
        user_id=str(user_id),
    )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AttendanceRecord:
    """One punch: ``verify`` is the verify type (pyzk ``status``), ``state`` in/out (pyzk ``punch``).

    ``time`` is the device's naive local time.
    """

    user_sn: int
    user_id: str
    verify: int
    state: int
    time: dt.datetime


def encode_attendance40(record: AttendanceRecord) -> bytes:
    """The 40-byte attendance record."""
    try:
        pin = pad(record.user_id, 24, "ascii", "user_id")
        return ATT40.pack(
            record.user_sn, pin, record.verify, encode_time(record.time), record.state, F19_RESERVED
        )
    except (struct.error, UnicodeEncodeError) as exc:
        raise ZkLocalError(f"attendance record {record!r}: {exc}") from None


def decode_attendance(raw: bytes) -> AttendanceRecord:
    """Decode a 40-, 16- or 8-byte attendance record (the format is told by the length)."""
    if len(raw) == ATT40.size:
        user_sn, pin, verify, code, state, _ = ATT40.unpack(raw)
        return AttendanceRecord(
            user_sn=user_sn, user_id=unpad(pin, "ascii"), verify=verify, state=state, time=decode_time(code)
        )
    if len(raw) == ATT16.size:
        pin_number, code, verify, state, _, _ = ATT16.unpack(raw)
        return AttendanceRecord(
            user_sn=0, user_id=str(pin_number), verify=verify, state=state, time=decode_time(code)
        )
    if len(raw) == ATT8.size:
        uid, verify, code, state = ATT8.unpack(raw)
        return AttendanceRecord(
            user_sn=uid, user_id=str(uid), verify=verify, state=state, time=decode_time(code)
        )
    raise ZkRemoteError(f"no attendance record format is {len(raw)} bytes long")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RealtimeAttendance:
    """A live EF_ATTLOG event; ``extra`` holds bytes later firmware appends (0 or 4)."""

    user_id: str
    verify: int
    state: int
    time: dt.datetime
    extra: bytes = b""


def encode_realtime(event: RealtimeAttendance) -> bytes:
    """The 32- or 36-byte EF_ATTLOG payload."""
    if REALTIME.size + len(event.extra) not in REALTIME_SIZES:
        raise ZkLocalError("realtime extra must be 0 or 4 bytes (pyzk hangs on other lengths)")
    try:
        pin = pad(event.user_id, 24, "ascii", "user_id")
        return REALTIME.pack(pin, event.verify, event.state, encode_time6(event.time)) + event.extra
    except (struct.error, UnicodeEncodeError) as exc:
        raise ZkLocalError(f"realtime event {event!r}: {exc}") from None


def decode_realtime(raw: bytes) -> RealtimeAttendance:
    """Decode a 32-, 36- or 52-byte EF_ATTLOG payload."""
    if len(raw) not in (32, 36, 52):
        raise ZkRemoteError(f"EF_ATTLOG payload of {len(raw)} bytes")
    pin, verify, state, raw_time = REALTIME.unpack_from(raw)
    return RealtimeAttendance(
        user_id=unpad(pin, "ascii"),
        verify=verify,
        state=state,
        time=decode_time6(raw_time),
        extra=bytes(raw[REALTIME.size :]),
    )


def _need(raw: bytes, size: int, what: str) -> None:
    if len(raw) != size:
        raise ZkRemoteError(f"{what} needs {size} bytes, got {len(raw)}")
