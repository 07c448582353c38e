"""Typed ``data`` of each event kind (the normalised event model of shared/PROTOCOLS.md §5).

``Event.data`` travels as a JSON object; these classes give it a schema on both sides. Each kind
keeps the device's raw codes next to their normalised names, so nothing a device said is lost.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from firmware_protocols.sync import _fields as f
from firmware_protocols.sync.errors import SyncProtocolError

_E = TypeVar("_E", bound=enum.StrEnum)


class EventKind(enum.StrEnum):
    PUNCH = "punch"
    CMD_RESULT = "cmd_result"
    LOSS_REPORT = "loss_report"
    DEVICE_STATE = "device_state"
    DEVICE_ALERT = "device_alert"  # a security finding about a device, e.g. a push from the wrong address


class VerifyMode(enum.StrEnum):
    PASSWORD = "password"
    FINGERPRINT = "fingerprint"
    CARD = "card"
    FACE = "face"
    OTHER = "other"


class PunchState(enum.StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    BREAK_OUT = "break_out"
    BREAK_IN = "break_in"
    OVERTIME_IN = "overtime_in"
    OVERTIME_OUT = "overtime_out"
    UNDEFINED = "undefined"


# ZKTeco verify and state codes (4370 and ADMS share them; PROTOCOLS.md §2.2, §3.1).
ZK_VERIFY_MODES: Final[Mapping[int, VerifyMode]] = {
    0: VerifyMode.PASSWORD,
    1: VerifyMode.FINGERPRINT,
    2: VerifyMode.CARD,
    15: VerifyMode.FACE,
}
ZK_PUNCH_STATES: Final[Mapping[int, PunchState]] = {
    0: PunchState.CHECK_IN,
    1: PunchState.CHECK_OUT,
    2: PunchState.BREAK_OUT,
    3: PunchState.BREAK_IN,
    4: PunchState.OVERTIME_IN,
    5: PunchState.OVERTIME_OUT,
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Punch:
    """A person checked in or out on a terminal.

    ``pin`` is the terminal's person id (never a name); ``dedup_key`` is the device's own identity
    for this record (ZK: SN|PIN|time|state; Hikvision: serial|serialNo), used by the agent to ignore
    a re-read and by the cloud as a second line of defence. ``clock_suspect`` flags a device time the
    agent found implausible; the event is kept all the same.
    """

    pin: str
    verify_mode: VerifyMode
    verify_code: str
    state: PunchState
    state_code: str
    dedup_key: str
    similarity: float | None = None
    clock_suspect: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "pin": self.pin,
            "verify_mode": self.verify_mode.value,
            "verify_code": self.verify_code,
            "state": self.state.value,
            "state_code": self.state_code,
            "dedup_key": self.dedup_key,
            "similarity": self.similarity,
            "clock_suspect": self.clock_suspect,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], where: str = "punch") -> Punch:
        obj = f.require_object(dict(data), where)
        f.reject_unknown(obj, _PUNCH_FIELDS, where)
        clock_suspect = obj.get("clock_suspect", False)
        if not isinstance(clock_suspect, bool):
            raise SyncProtocolError(f"{where}.clock_suspect: expected a boolean")
        return cls(
            pin=f.string(obj, "pin", where, max_len=32),
            verify_mode=_enum(VerifyMode, f.string(obj, "verify_mode", where), f"{where}.verify_mode"),
            verify_code=f.string(obj, "verify_code", where, max_len=32),
            state=_enum(PunchState, f.string(obj, "state", where), f"{where}.state"),
            state_code=f.string(obj, "state_code", where, max_len=32),
            dedup_key=f.string(obj, "dedup_key", where, max_len=200),
            similarity=f.optional_number(obj, "similarity", where),
            clock_suspect=clock_suspect,
        )


_PUNCH_FIELDS = frozenset(x.name for x in dataclasses.fields(Punch))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CommandResult:
    """The outcome of a cloud command, travelling back through the outbox."""

    cmd_id: str
    ok: bool
    detail: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"cmd_id": self.cmd_id, "ok": self.ok, "detail": self.detail}

    @classmethod
    def from_data(cls, data: Mapping[str, Any], where: str = "cmd_result") -> CommandResult:
        obj = f.require_object(dict(data), where)
        f.reject_unknown(obj, frozenset({"cmd_id", "ok", "detail"}), where)
        ok = f.field(obj, "ok", where)
        if not isinstance(ok, bool):
            raise SyncProtocolError(f"{where}.ok: expected a boolean")
        return cls(
            cmd_id=f.string(obj, "cmd_id", where, max_len=64),
            ok=ok,
            detail=f.string(obj, "detail", where, max_len=2000),
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LossReport:
    """Rows the agent had to drop (only keep-latest kinds are ever shed), counted exactly."""

    dropped_total: int
    dropped_by_kind: Mapping[str, int]

    def to_data(self) -> dict[str, Any]:
        return {"dropped_total": self.dropped_total, "dropped_by_kind": dict(self.dropped_by_kind)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any], where: str = "loss_report") -> LossReport:
        obj = f.require_object(dict(data), where)
        f.reject_unknown(obj, frozenset({"dropped_total", "dropped_by_kind"}), where)
        by_kind = f.require_object(f.field(obj, "dropped_by_kind", where), f"{where}.dropped_by_kind")
        if len(by_kind) > 64 or any(len(kind) > 32 for kind in by_kind):
            raise SyncProtocolError(f"{where}.dropped_by_kind: at most 64 kinds of ≤ 32 chars")
        return cls(
            dropped_total=f.integer(obj, "dropped_total", where),
            dropped_by_kind={k: f.integer(by_kind, k, f"{where}.dropped_by_kind") for k in by_kind},
        )


def _enum(kind: type[_E], value: str, where: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise SyncProtocolError(f"{where}: {value!r} is not one of {[m.value for m in kind]}") from None
