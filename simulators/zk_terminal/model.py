"""What the simulated terminal holds: users, the attendance log, its clock, its identity.

The clock is the terminal's local wall time (naive, in ``timezone``) plus an offset that
CMD_SET_TIME changes, so a time set by a client is what CMD_GET_TIME reads back.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware_protocols.zkteco import AttendanceRecord, UserRecord

DEMO_USERS: tuple[UserRecord, ...] = (
    UserRecord(uid=1, user_id="1", name="张三", privilege=14, password="123", card=0),
    UserRecord(uid=2, user_id="2", name="李四", card=10_002),
    UserRecord(uid=3, user_id="3", name="王五", card=10_003),
    UserRecord(uid=4, user_id="1004", name="赵六"),
    UserRecord(uid=5, user_id="1005", name="Alice Chen"),
)
LAST_PUNCHES_KEPT = 20
# Punches ever made, kept apart from the log (which a client may clear), so the state file still
# says what the terminal generated after the agent cleared what the cloud acked.
RECORDED_PUNCHES_KEPT = 500


@dataclasses.dataclass(kw_only=True)
class TerminalModel:
    """Mutable device state; only the simulator's event loop touches it."""

    serial_number: str = "SIM0000000001"
    timezone: str = "Asia/Shanghai"
    users: list[UserRecord] = dataclasses.field(default_factory=lambda: list(DEMO_USERS))
    log: list[AttendanceRecord] = dataclasses.field(default_factory=list)
    clock_offset: dt.timedelta = dt.timedelta(0)
    recorded: collections.deque[AttendanceRecord] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=RECORDED_PUNCHES_KEPT)
    )
    punch_count: int = 0
    # DISABLEDEVICE locks the keypad (a real terminal shows "working…"): nobody can punch until ENABLE.
    enabled: bool = True

    def now(self) -> dt.datetime:
        """The terminal's local wall time, to the second."""
        local = dt.datetime.now(ZoneInfo(self.timezone)).replace(tzinfo=None, microsecond=0)
        return local + self.clock_offset

    def set_clock(self, when: dt.datetime) -> None:
        self.clock_offset = dt.timedelta(0)
        self.clock_offset = when - self.now()

    def user(self, pin: str) -> UserRecord | None:
        return next((u for u in self.users if u.user_id == pin), None)

    def put_user(self, user: UserRecord) -> None:
        """Create or replace the user with the same uid (as the firmware does)."""
        self.users = [u for u in self.users if u.uid != user.uid and u.user_id != user.user_id]
        self.users.append(user)
        self.users.sort(key=lambda u: u.uid)

    def delete_user(self, uid: int) -> bool:
        before = len(self.users)
        self.users = [u for u in self.users if u.uid != uid]
        return len(self.users) < before

    def add_punch(self, pin: str, when: dt.datetime, state: int, verify: int) -> AttendanceRecord:
        user = self.user(pin)
        record = AttendanceRecord(
            user_sn=user.uid if user else 0, user_id=pin, verify=verify, state=state, time=when
        )
        self.log.append(record)
        self.recorded.append(record)
        self.punch_count += 1
        return record

    def prefill(self, count: int, seed: int = 4370) -> None:
        """Append ``count`` deterministic past punches by the known users, oldest first."""
        rng = random.Random(seed)
        start = self.now() - dt.timedelta(seconds=60 * count)
        for i in range(count):
            user = rng.choice(self.users)
            self.add_punch(user.user_id, start + dt.timedelta(seconds=60 * i), rng.choice((0, 1)), 1)

    def snapshot(self) -> dict[str, Any]:
        """The JSON state file content."""
        return {
            "serial_number": self.serial_number,
            "users": [_user_json(u) for u in self.users],
            "log_size": len(self.log),
            "last_punches": [_punch_json(r) for r in self.log[-LAST_PUNCHES_KEPT:]],
            "punch_count": self.punch_count,
            "enabled": self.enabled,
            "recorded_punches": [_punch_json(r) for r in self.recorded],
        }


def load_users(path: Path) -> list[UserRecord]:
    """Users from a JSON list of {"pin", "name", "privilege", "card", "password"}; uids by position."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of users")
    return [
        UserRecord(
            uid=i,
            user_id=str(e["pin"]),
            name=str(e.get("name", "")),
            privilege=int(e.get("privilege", 0)),
            card=int(e.get("card", 0)),
            password=str(e.get("password", "")),
        )
        for i, e in enumerate(entries, start=1)
    ]


def _user_json(user: UserRecord) -> dict[str, Any]:
    return {
        "uid": user.uid,
        "pin": user.user_id,
        "name": user.name,
        "privilege": user.privilege,
        "card": user.card,
    }


def _punch_json(record: AttendanceRecord) -> dict[str, Any]:
    return {
        "pin": record.user_id,
        "time": record.time.isoformat(sep=" "),
        "state": record.state,
        "verify": record.verify,
    }
