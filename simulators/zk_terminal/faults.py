"""Fault injection for robustness tests: drop, delay, corrupt or disconnect the next N replies.

A fault applies to the whole answer to one request (all its packets). ``corrupt`` flips the last
byte of every frame, so the length still frames correctly but the checksum no longer matches.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal, cast

FaultKind = Literal["drop", "delay", "corrupt", "disconnect"]
FAULT_KINDS: Final = ("drop", "delay", "corrupt", "disconnect")


@dataclasses.dataclass(kw_only=True)
class FaultPlan:
    kind: FaultKind | None = None
    remaining: int = 0
    delay_s: float = 2.0
    applied: int = 0

    def arm(self, kind: FaultKind, count: int, delay_s: float = 2.0) -> None:
        """Apply ``kind`` to the next ``count`` answers."""
        self.kind, self.remaining, self.delay_s = kind, count, delay_s

    def take(self) -> FaultKind | None:
        """The fault for the answer about to be sent, if one is armed."""
        if self.kind is None or self.remaining <= 0:
            return None
        self.remaining -= 1
        self.applied += 1
        return self.kind


def parse_fault(text: str) -> tuple[FaultKind, int]:
    """``kind:count`` as given to ``--fault`` (e.g. ``corrupt:3``)."""
    kind, _, count = text.partition(":")
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}")
    return cast(FaultKind, kind), int(count or "1")


def corrupt(frame: bytes) -> bytes:
    """The frame with its last byte inverted."""
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])
