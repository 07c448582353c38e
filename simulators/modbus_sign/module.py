"""The points-display module's behaviour over its register image, independent of Modbus framing.

Rules (REGISTERS.md): content registers are staged; writing the version register, or Command.APPLY
to the control register, makes the module show the staged content. Command.CLEAR blanks it,
Command.TEST_PATTERN lights every dot; the control register then reads IDLE again and the status
register tells what the module does. Brightness takes effect at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from firmware_protocols.modbus_led import (
    Command,
    DisplayedContent,
    Face,
    RegisterProfile,
    Status,
    decode_clock,
    decode_registers,
)
from firmware_protocols.modbus_led.profiles import CLOCK_REGISTERS


@dataclasses.dataclass
class Counters:
    reads: int = 0
    writes: int = 0
    registers_written: int = 0
    applies: int = 0
    bad_commands: int = 0
    faults: int = 0


class SignModule:
    """Register image + what the module currently shows."""

    def __init__(self, profile: RegisterProfile, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.profile = profile
        self._monotonic = monotonic
        self._clock_set_at = 0.0
        self.registers = [0] * profile.span
        self.showing: DisplayedContent | None = None
        self.counters = Counters()

    @property
    def status(self) -> Status:
        return Status(self.registers[self.profile.status])

    def write(self, address: int, values: Sequence[int]) -> None:
        """Apply a master's write of ``values`` at ``address`` and react to control/version."""
        self.counters.writes += 1
        self.counters.registers_written += len(values)
        self.registers[address : address + len(values)] = values
        touched = range(address, address + len(values))
        if any(a in touched for a in range(self.profile.clock, self.profile.clock + CLOCK_REGISTERS)):
            self._clock_set_at = self._monotonic()
        if self.profile.control in touched:
            self._command(self.registers[self.profile.control])
        if any(
            a in touched
            for a in range(self.profile.version, self.profile.version + self.profile.version_registers)
        ):
            self._apply()

    def _command(self, value: int) -> None:
        self.registers[self.profile.control] = Command.IDLE
        if value == Command.APPLY:
            self._apply()
        elif value == Command.CLEAR:
            self.showing = None
            self._set_status(Status.BLANK)
        elif value == Command.TEST_PATTERN:
            self._set_status(Status.TEST_PATTERN)
        elif value != Command.IDLE:
            self.counters.bad_commands += 1
            self._set_status(Status.BAD_COMMAND)

    def _apply(self) -> None:
        self.showing = decode_registers(self.profile, self.registers)
        self.counters.applies += 1
        self._set_status(Status.SHOWING)

    def _set_status(self, status: Status) -> None:
        self.registers[self.profile.status] = status

    def clock_text(self) -> str:
        """The module's running clock, ``YYYY-MM-DD HH:MM``: the time last set plus the time since."""
        set_to = decode_clock(self.profile, self.registers)
        if set_to is None:
            return "----------- --:--"
        return f"{set_to + dt.timedelta(seconds=self._monotonic() - self._clock_set_at):%Y-%m-%d %H:%M}"

    def showing_lines(self) -> list[str]:
        """The lines a person reads off the sign: the title, then ``rank name points`` rows (or the clock)."""
        if self.status == Status.TEST_PATTERN:
            return ["█" * 8]
        if self.showing is None:
            return []
        if self.showing.face == Face.CLOCK:
            rows = [self.clock_text()]
        else:
            rows = [f"{row.rank:>2} {row.name} {row.points}" for row in self.showing.rows]
        return [self.showing.title, *rows] if self.showing.title else rows

    def state(self) -> dict[str, Any]:
        """The JSON state file's content."""
        shown = self.showing
        return {
            "profile": self.profile.name,
            "status": self.status.name.lower(),
            "showing": self.showing_lines(),
            "title": shown.title if shown else "",
            "rows": [dataclasses.asdict(row) for row in shown.rows] if shown else [],
            "version": shown.version if shown else None,
            "page_count": shown.page_count if shown else 0,
            "dwell_s": shown.dwell_s if shown else 0,
            "brightness": min(self.registers[self.profile.brightness], 15),
            "clock": self.clock_text(),
            "counters": dataclasses.asdict(self.counters),
        }
