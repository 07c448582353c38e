"""Per-client-IP limit on failed short-code attempts (tokens.py: 40 bits are enough only with a limit).

A simple in-memory sliding window per API process: with N replicas an address gets N times the budget,
which still leaves guessing a live 40-bit code hopeless within a token's lifetime. The table of tracked
addresses is bounded; when full, the address seen least recently is forgotten first.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Final

DEFAULT_MAX_FAILURES: Final = 10
DEFAULT_WINDOW_S: Final = 900.0
MAX_TRACKED_ADDRESSES: Final = 10_000


class AttemptWindow:
    """At most ``max_failures`` failed attempts per address in any ``window_s`` seconds."""

    def __init__(
        self,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_s: float = DEFAULT_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.window_s, self._clock = max_failures, window_s, clock
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()

    def retry_after(self, address: str) -> float | None:
        """Seconds until ``address`` may try again, or None when it may try now."""
        failures = self._recent(address)
        if len(failures) < self.max_failures:
            return None
        return max(failures[0] + self.window_s - self._clock(), 1.0)

    def record_failure(self, address: str) -> None:
        """Count one failed attempt of ``address``."""
        failures = self._recent(address)
        failures.append(self._clock())
        self._failures[address] = failures
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_TRACKED_ADDRESSES:
            self._failures.popitem(last=False)

    def _recent(self, address: str) -> collections.deque[float]:
        failures = self._failures.get(address, collections.deque())
        horizon = self._clock() - self.window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
