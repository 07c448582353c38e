"""The simulated terminal's memory (users, log, stamps, pending uploads) and its JSON form."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Any

from firmware_protocols import zk_push
from simulators.state_file import read_state, write_state

USER_FIELDS = ("pin", "name", "privilege", "password", "card", "group")
USER_DEFAULTS = {"name": "", "privilege": "0", "password": "", "card": "", "group": "1"}


@dataclasses.dataclass(kw_only=True, slots=True)
class LogEntry:
    stamp: int
    record: zk_push.AttRecord


@dataclasses.dataclass(kw_only=True, slots=True)
class TerminalMemory:
    users: dict[str, zk_push.UserEntry] = dataclasses.field(default_factory=dict)
    log: list[LogEntry] = dataclasses.field(default_factory=list)
    next_stamp: int = 1
    uploaded_stamp: int = 0  # the server holds every record with a stamp up to this
    pending_users: list[zk_push.UserEntry] = dataclasses.field(default_factory=list)
    pending_photos: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (pin, yyyymmddhhmmss)
    pending_results: list[zk_push.CommandResult] = dataclasses.field(default_factory=list)
    counters: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def unsent(self) -> list[LogEntry]:
        """Log entries the server has not acknowledged."""
        return [entry for entry in self.log if entry.stamp > self.uploaded_stamp]


def save(path: Path, memory: TerminalMemory) -> None:
    """Write ``memory`` atomically to ``path``."""
    write_state(path, to_json(memory))


def load(path: Path) -> TerminalMemory | None:
    """The memory saved in ``path``, or None when there is none yet."""
    data = read_state(path)
    return None if data is None else from_json(data)


def user_to_json(user: zk_push.UserEntry) -> dict[str, Any]:
    return {**{name: getattr(user, name) for name in USER_FIELDS}, "extra": [list(kv) for kv in user.extra]}


def user_from_json(data: dict[str, Any]) -> zk_push.UserEntry:
    text = {name: str(data.get(name, default)) for name, default in USER_DEFAULTS.items()}
    return zk_push.UserEntry(
        pin=str(data["pin"]),
        name=text["name"],
        privilege=text["privilege"],
        password=text["password"],
        card=text["card"],
        group=text["group"],
    )


def to_json(memory: TerminalMemory) -> dict[str, Any]:
    return {
        "users": [user_to_json(user) for user in memory.users.values()],
        "log": [
            [e.stamp, e.record.pin, e.record.time, e.record.status, e.record.verify, e.record.workcode]
            for e in memory.log
        ],
        "next_stamp": memory.next_stamp,
        "uploaded_stamp": memory.uploaded_stamp,
        "pending_users": [user_to_json(user) for user in memory.pending_users],
        "pending_photos": [list(photo) for photo in memory.pending_photos],
        "pending_results": [
            [r.id, r.return_code, r.cmd, [list(kv) for kv in r.extra]] for r in memory.pending_results
        ],
        "counters": dict(memory.counters),
    }


def from_json(data: dict[str, Any]) -> TerminalMemory:
    users = [user_from_json(user) for user in data.get("users", [])]
    return TerminalMemory(
        users={user.pin: user for user in users},
        log=[
            LogEntry(stamp=int(s), record=zk_push.AttRecord(pin=p, time=t, status=st, verify=v, workcode=w))
            for s, p, t, st, v, w in data.get("log", [])
        ],
        next_stamp=int(data.get("next_stamp", 1)),
        uploaded_stamp=int(data.get("uploaded_stamp", 0)),
        pending_users=[user_from_json(user) for user in data.get("pending_users", [])],
        pending_photos=[(str(pin), str(when)) for pin, when in data.get("pending_photos", [])],
        pending_results=[
            zk_push.CommandResult(id=i, return_code=c, cmd=cmd, extra=tuple((k, v) for k, v in ex))
            for i, c, cmd, ex in data.get("pending_results", [])
        ],
        counters=collections.Counter(data.get("counters", {})),
    )
