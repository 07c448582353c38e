"""What the agent remembers about each terminal between requests (in memory; the sink is durable).

Stamps only tell a terminal where to resume: after an agent restart they read "None" and the terminal
resends everything, which the sink's dedup absorbs. Commands wait in a queue until the terminal polls,
then wait in ``sent`` until their result arrives (to map the terminal's id back to the caller's).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import time
from collections.abc import Iterator

from firmware_protocols import zk_push


@dataclasses.dataclass(kw_only=True, slots=True)
class TerminalState:
    sn: str
    device: str
    language: str = ""
    last_seen: float | None = None  # time.monotonic() of the last request
    attlog_stamp: str = "None"
    operlog_stamp: str = "None"
    queue: collections.deque[zk_push.QueuedCommand] = dataclasses.field(default_factory=collections.deque)
    sent: dict[int, str] = dataclasses.field(default_factory=dict)  # terminal command id → caller's id
    callers: dict[int, str] = dataclasses.field(default_factory=dict)  # queued id → caller's id
    enrolled_pins: set[str] = dataclasses.field(default_factory=set)

    def take_commands(self, limit: int) -> list[zk_push.QueuedCommand]:
        """Up to ``limit`` queued commands, moved to ``sent``."""
        taken = [self.queue.popleft() for _ in range(min(limit, len(self.queue)))]
        for queued in taken:
            self.sent[queued.id] = self.callers.pop(queued.id)
        return taken

    def silent_for(self, now: float) -> float | None:
        """Seconds since the last request (None: never seen)."""
        return None if self.last_seen is None else now - self.last_seen

    def has_pending_delete(self, pin: str) -> bool:
        """True when a DeleteUser for ``pin`` is queued or awaiting its result."""
        return any(q.command == zk_push.DeleteUser(pin=pin) for q in self.queue)


def command_ids() -> Iterator[int]:
    """Terminal command ids: epoch seconds at start, then +1, so a restart does not reuse recent ids
    (unless more commands than seconds passed); below 10**9 to fit the terminals' 32-bit integers."""
    return itertools.count(int(time.time()) % 10**9)
