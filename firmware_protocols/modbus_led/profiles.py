"""Register-map profiles: where each field of the points display lives, and how it is encoded.

A profile is data, not code: one frozen row per vendor layout in ``PROFILES``. Every address is a
holding-register address (0-based, as on the wire; FC03 read, FC06/FC16 write). REGISTERS.md
documents the default layout and the meaning of each field.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

CLOCK_REGISTERS: Final = 6
TextEncoding = Literal["gbk", "utf-16be", "ascii"]
ByteOrder = Literal["big", "little"]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RegisterProfile:
    """One vendor's layout of the points-display register map."""

    name: str
    description: str
    control: int  # command register (Command)
    status: int  # written by the module (Status)
    brightness: int  # 0–15
    page_count: int  # pages the rows are cycled through
    dwell_s: int  # seconds each page stays up
    row_count: int  # how many row slots hold content
    version: int  # content version, written last; 1 or 2 registers
    version_registers: Literal[1, 2]
    title: int
    title_registers: int
    ranks: int  # u16 per row slot
    texts: int  # text_registers per row slot, back to back
    text_registers: int
    points: int  # int32 (2 registers) per row slot, back to back
    rows: int  # row slots
    rows_per_page: int
    text_encoding: TextEncoding
    text_byte_order: ByteOrder  # "big": the first text byte is the register's high byte
    word_order: ByteOrder  # "big": an int32's high word at the lower address
    clock: int  # 6 registers: year, month, day, hour, minute, second (site-local); the module runs it
    face: int  # what the module shows: Face.ROWS (title + rows) or Face.CLOCK (title + its own clock)

    @property
    def span(self) -> int:
        """One past the highest register address the profile uses."""
        ends = (
            self.control + 1,
            self.status + 1,
            self.brightness + 1,
            self.page_count + 1,
            self.dwell_s + 1,
            self.row_count + 1,
            self.version + self.version_registers,
            self.title + self.title_registers,
            self.ranks + self.rows,
            self.texts + self.rows * self.text_registers,
            self.points + 2 * self.rows,
            self.clock + CLOCK_REGISTERS,
            self.face + 1,
        )
        return max(ends)

    @property
    def version_modulus(self) -> int:
        """Versions are stored modulo this (65,536 or 2**32)."""
        return 1 << (16 * self.version_registers)

    def text_address(self, row: int) -> int:
        return self.texts + row * self.text_registers

    def points_address(self, row: int) -> int:
        return self.points + 2 * row


MPM_GBK: Final = RegisterProfile(
    name="mpm-gbk",
    description="MPM default: 8 rows of 32 GBK bytes, int32 points high word first, u32 version",
    control=0,
    status=1,
    brightness=2,
    page_count=3,
    dwell_s=4,
    row_count=5,
    version=6,
    version_registers=2,
    title=8,
    title_registers=16,
    ranks=32,
    texts=40,
    text_registers=16,
    points=200,
    rows=8,
    rows_per_page=4,
    text_encoding="gbk",
    text_byte_order="big",
    word_order="big",
    clock=24,
    face=30,
)

WIDE_UTF16: Final = RegisterProfile(
    name="wide-utf16",
    description="EmbeddedArt-style: text from register 1000 in UTF-16BE, 6 rows of 20 characters, "
    "int32 points low word first, u16 version",
    control=0,
    status=1,
    brightness=10,
    page_count=11,
    dwell_s=12,
    row_count=13,
    version=20,
    version_registers=1,
    title=1000,
    title_registers=20,
    ranks=100,
    texts=1100,
    text_registers=20,
    points=300,
    rows=6,
    rows_per_page=3,
    text_encoding="utf-16be",
    text_byte_order="big",
    word_order="little",
    clock=30,
    face=36,
)

PROFILES: Final[dict[str, RegisterProfile]] = {p.name: p for p in (MPM_GBK, WIDE_UTF16)}
DEFAULT_PROFILE: Final = MPM_GBK
