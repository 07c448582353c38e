"""What the points display shows, the commands it takes, and the write plan that changes it."""

from __future__ import annotations

import dataclasses
import enum


class Command(enum.IntEnum):
    """Values of the control register. The module resets it to IDLE once it has acted."""

    IDLE = 0
    APPLY = 1  # show the staged content now (the version write does the same)
    CLEAR = 2  # blank the display
    TEST_PATTERN = 3  # light every dot


class Face(enum.IntEnum):
    """Values of the face register: what the module draws under the title."""

    ROWS = 0  # the ranking rows (or text lines), paged
    CLOCK = 1  # the module's own clock, live


class Status(enum.IntEnum):
    """Values of the status register, written by the module."""

    BLANK = 0
    SHOWING = 1
    TEST_PATTERN = 2
    BAD_COMMAND = 3  # the last control value was not a Command


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DisplayedRow:
    """One ranking line: rank, name (Chinese allowed where the encoding can carry it), points."""

    rank: int
    name: str
    points: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DisplayedContent:
    """What a module holds in its content registers: what it shows once applied."""

    title: str
    rows: tuple[DisplayedRow, ...]
    brightness: int
    page_count: int
    dwell_s: int
    version: int
    face: Face = Face.ROWS


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WriteBlock:
    """One FC16 write: ``registers`` starting at ``address`` (at most 123 registers)."""

    address: int
    registers: tuple[int, ...]
