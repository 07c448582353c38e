"""The sign's memory: files, strings, pictures, memory configuration and clock, as a real sign keeps them.

Rules modelled on the M-Protocol:
- TEXT ``A`` and the priority TEXT ``0`` are always writable; any other file must be allocated by
  ``E$`` with the right type, else the write is ignored and counted (``ignored_writes``).
- ``E$`` replaces the configuration and clears memory; a bare ``E$`` just clears memory.
- A STRING longer than its allocated size is cut to that size.
- Writing an empty priority TEXT cancels it; the sign then shows ``A`` again.
- Read requests are answered with the matching write command holding the data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from firmware_protocols.alpha_sign import (
    Command,
    MemoryConfiguration,
    MemoryEntry,
    ReadSmallDots,
    ReadSpecial,
    ReadString,
    ReadText,
    SetDate,
    SetDayOfWeek,
    SetTime,
    WriteSmallDots,
    WriteSpecialRaw,
    WriteString,
    WriteText,
)
from firmware_protocols.alpha_sign.constants import (
    DEFAULT_TEXT_LABEL,
    MEMORY_CONFIGURATION,
    PRIORITY_TEXT_LABEL,
    SET_TIME,
)
from firmware_protocols.glyphs import read_text
from simulators.alpha_sign.showing import showing_pages

ALWAYS_WRITABLE_TEXT = frozenset({DEFAULT_TEXT_LABEL, PRIORITY_TEXT_LABEL})


def picture_text(picture: WriteSmallDots) -> str:
    """What a picture row says, read back with the font that drew it (for people and the demo)."""
    return read_text([[digit != "0" for digit in row] for row in picture.rows])


def _latin1(data: bytes) -> str:
    return data.decode("latin-1")


class SignMemory:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._time_set_at = 0.0
        self.config: dict[str, MemoryEntry] = {}
        self.texts: dict[str, WriteText] = {}
        self.strings: dict[str, bytes] = {}
        self.pictures: dict[str, WriteSmallDots] = {}
        self.time: SetTime | None = None
        self.date: SetDate | None = None
        self.day_of_week: int | None = None
        self.specials: dict[str, bytes] = {}
        self.ignored_writes = 0

    # --- writes ---------------------------------------------------------------------------

    def apply(self, command: Command) -> Command | None:
        """Apply a write, or answer a read: returns the response command, if any."""
        match command:
            case ReadText() | ReadString() | ReadSmallDots() | ReadSpecial():
                return self._answer(command)
            case WriteText():
                self._write_text(command)
            case WriteString():
                self._write_string(command)
            case WriteSmallDots():
                self._write_picture(command)
            case MemoryConfiguration():
                self._configure(command)
            case SetTime():
                self.time, self._time_set_at = command, self._monotonic()
            case SetDate():
                self.date = command
            case SetDayOfWeek():
                self.day_of_week = command.day
            case WriteSpecialRaw():
                self.specials[command.code] = command.data
            case _:
                self.ignored_writes += 1
        return None

    def _allocated(self, label: str, file_type: str) -> MemoryEntry | None:
        entry = self.config.get(label)
        return entry if entry is not None and entry.file_type == file_type else None

    def _write_text(self, command: WriteText) -> None:
        if command.label == PRIORITY_TEXT_LABEL and not command.message:
            self.texts.pop(PRIORITY_TEXT_LABEL, None)
        elif command.label in ALWAYS_WRITABLE_TEXT or self._allocated(command.label, "A"):
            self.texts[command.label] = command
        else:
            self.ignored_writes += 1

    def _write_string(self, command: WriteString) -> None:
        entry = self._allocated(command.label, "B")
        if entry is None:
            self.ignored_writes += 1
            return
        self.strings[command.label] = command.text[: entry.size]

    def _write_picture(self, command: WriteSmallDots) -> None:
        if self._allocated(command.label, "D") is None:
            self.ignored_writes += 1
            return
        self.pictures[command.label] = command

    def _configure(self, command: MemoryConfiguration) -> None:
        self.texts.clear()
        self.strings.clear()
        self.pictures.clear()
        self.config = {entry.label: entry for entry in command.entries}

    # --- reads ----------------------------------------------------------------------------

    def _answer(self, command: ReadText | ReadString | ReadSmallDots | ReadSpecial) -> Command:
        match command:
            case ReadText():
                return self.texts.get(command.label) or WriteText(label=command.label, message=b"")
            case ReadString():
                return WriteString(label=command.label, text=self.strings.get(command.label, b""))
            case ReadSmallDots():
                empty = WriteSmallDots(label=command.label, height=0, width=0, rows=())
                return self.pictures.get(command.label, empty)
            case ReadSpecial():
                return self._answer_special(command.code)

    def _answer_special(self, code: str) -> Command:
        if code == MEMORY_CONFIGURATION:
            return MemoryConfiguration(entries=tuple(self.config.values()))
        if code == SET_TIME and self.time is not None:
            return self.time
        return WriteSpecialRaw(code=code, data=self.specials.get(code, b""))

    # --- what it shows --------------------------------------------------------------------

    def current_text(self) -> WriteText | None:
        """The TEXT file on the face: the priority file if set, else ``A``."""
        return self.texts.get(PRIORITY_TEXT_LABEL) or self.texts.get(DEFAULT_TEXT_LABEL)

    def clock_text(self) -> str:
        """The sign's running clock, ``HH:MM``: the time last set plus the time since (``--:--`` unset)."""
        if self.time is None:
            return "--:--"
        elapsed = dt.timedelta(seconds=self._monotonic() - self._time_set_at)
        set_to = dt.datetime(2000, 1, 1, self.time.hour, self.time.minute, tzinfo=dt.UTC)  # wall time
        return f"{set_to + elapsed:%H:%M}"

    def showing(self) -> list[list[str]]:
        """Pages of lines on the face now."""
        text = self.current_text()
        return showing_pages(text.message, self.strings, self.clock_text()) if text else []

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready picture of the memory (control bytes kept as Latin-1 characters)."""
        return {
            "memory_configuration": [
                {"label": e.label, "type": e.file_type, "locked": e.locked, "size": e.size, "times": e.times}
                for e in self.config.values()
            ],
            "files": {
                label: {
                    "position": t.position,
                    "mode": t.mode,
                    "special": t.special,
                    "text": _latin1(t.message),
                }
                for label, t in sorted(self.texts.items())
            },
            "strings": {label: _latin1(text) for label, text in sorted(self.strings.items())},
            "pictures": {
                label: {"height": p.height, "width": p.width, "rows": list(p.rows), "text": picture_text(p)}
                for label, p in sorted(self.pictures.items())
            },
            "time": f"{self.time.hour:02d}:{self.time.minute:02d}" if self.time else None,
            "date": f"{self.date.month:02d}/{self.date.day:02d}/{self.date.year:02d}" if self.date else None,
            "day_of_week": self.day_of_week,
            "ignored_writes": self.ignored_writes,
        }
