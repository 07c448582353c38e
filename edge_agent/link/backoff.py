"""Exponential reconnect backoff with full jitter (so a fleet of agents does not reconnect in step)."""

from __future__ import annotations

import random


class Backoff:
    """``next()`` gives a random delay in [0, min(maximum, initial × 2^attempt)]; ``reset()`` on success."""

    def __init__(
        self, *, initial: float = 0.5, maximum: float = 30.0, rng: random.Random | None = None
    ) -> None:
        self.initial, self.maximum = initial, maximum
        self._attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        """The delay before the next attempt."""
        ceiling = min(self.maximum, self.initial * 2**self._attempt)
        self._attempt = min(self._attempt + 1, 32)
        return self._rng.uniform(self.initial / 2, ceiling) if ceiling > self.initial / 2 else ceiling

    def reset(self) -> None:
        self._attempt = 0
