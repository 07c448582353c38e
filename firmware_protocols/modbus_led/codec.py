"""Content ↔ registers for a profile: the write plan a driver sends, and what a module shows.

Theory of operation. Modbus (RTU or TCP framing, done by pymodbus) moves 16-bit holding registers;
this module decides which registers mean what. A content update is a *write plan*: FC16 blocks of at
most 123 registers covering the title, every row slot (unused slots zeroed, so no stale row
survives), page count, dwell and row count, optionally brightness, and then, as the LAST block, the
content version. A module applies staged content when the version register is written (or on
Command.APPLY); the driver confirms by reading the version back. There is no byte framing here, so
there is no feed()/next_message(): ``decode_registers`` takes a register image and is total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from firmware_protocols.modbus_led.errors import ModbusLedEncodeError, ModbusLedError
from firmware_protocols.modbus_led.fields import (
    decode_int32,
    decode_text,
    decode_unsigned,
    encode_int32,
    encode_text,
    encode_unsigned,
)
from firmware_protocols.modbus_led.messages import Command, DisplayedContent, DisplayedRow, Face, WriteBlock
from firmware_protocols.modbus_led.profiles import CLOCK_REGISTERS, RegisterProfile

MAX_WRITE_REGISTERS: Final = 123  # FC16 limit (Modbus application protocol 1.1b3 §6.12)
MAX_BRIGHTNESS: Final = 15
MAX_RANK: Final = 0xFFFF


def page_count(profile: RegisterProfile, rows: int) -> int:
    """Pages needed to show ``rows`` rows (at least one)."""
    shown = min(rows, profile.rows)
    return max(1, -(-shown // profile.rows_per_page))


def _row_registers(profile: RegisterProfile, slot: int, row: DisplayedRow | None) -> dict[int, int]:
    text = encode_text(profile, row.name if row else "", profile.text_registers)
    points = encode_int32(row.points if row else 0, profile.word_order)
    rank = min(max(row.rank, 0), MAX_RANK) if row else 0
    image = {profile.ranks + slot: rank}
    image.update(enumerate(text, start=profile.text_address(slot)))
    image.update(enumerate(points, start=profile.points_address(slot)))
    return image


def content_image(
    profile: RegisterProfile,
    rows: Sequence[DisplayedRow],
    *,
    title: str,
    dwell_s: int,
    brightness: int | None,
    face: Face = Face.ROWS,
) -> dict[int, int]:
    """Every content register (address → value) except the version."""
    if not 0 <= dwell_s <= 0xFFFF:
        raise ModbusLedEncodeError(f"dwell_s {dwell_s} is not a u16")
    if brightness is not None and not 0 <= brightness <= MAX_BRIGHTNESS:
        raise ModbusLedEncodeError(f"brightness {brightness} is outside 0–{MAX_BRIGHTNESS}")
    kept = list(rows[: profile.rows])
    image = dict(enumerate(encode_text(profile, title, profile.title_registers), start=profile.title))
    for slot in range(profile.rows):
        image.update(_row_registers(profile, slot, kept[slot] if slot < len(kept) else None))
    image[profile.page_count] = page_count(profile, len(kept))
    image[profile.dwell_s] = dwell_s
    image[profile.row_count] = len(kept)
    image[profile.face] = face
    if brightness is not None:
        image[profile.brightness] = brightness
    return image


def coalesce(image: Mapping[int, int]) -> list[WriteBlock]:
    """Contiguous runs of ``image`` as FC16 blocks of at most 123 registers, in address order."""
    blocks: list[WriteBlock] = []
    run: list[int] = []
    start = -1
    for address in sorted(image):
        if run and (address != start + len(run) or len(run) == MAX_WRITE_REGISTERS):
            blocks.append(WriteBlock(address=start, registers=tuple(run)))
            run = []
        if not run:
            start = address
        run.append(image[address])
    if run:
        blocks.append(WriteBlock(address=start, registers=tuple(run)))
    return blocks


def encode_version(profile: RegisterProfile, version: int) -> WriteBlock:
    """The commit write: ``version`` modulo the profile's version width."""
    words = encode_unsigned(version, profile.version_registers, profile.word_order)
    return WriteBlock(address=profile.version, registers=words)


def encode_content(
    profile: RegisterProfile,
    rows: Sequence[DisplayedRow],
    *,
    title: str,
    version: int,
    dwell_s: int = 5,
    brightness: int | None = None,
) -> tuple[WriteBlock, ...]:
    """The write plan that makes a module show ``rows`` under ``title``; the version block is last."""
    image = content_image(profile, rows, title=title, dwell_s=dwell_s, brightness=brightness)
    return (*coalesce(image), encode_version(profile, version))


def encode_brightness(profile: RegisterProfile, level: int) -> WriteBlock:
    """Set brightness (0–15) without touching the content."""
    if not 0 <= level <= MAX_BRIGHTNESS:
        raise ModbusLedEncodeError(f"brightness {level} is outside 0–{MAX_BRIGHTNESS}")
    return WriteBlock(address=profile.brightness, registers=(level,))


def encode_clock(profile: RegisterProfile, now: dt.datetime) -> WriteBlock:
    """Set the module's clock to ``now`` as the wall shows it (year, month, day, hour, minute, second)."""
    values = (now.year, now.month, now.day, now.hour, now.minute, now.second)
    return WriteBlock(address=profile.clock, registers=values)


def decode_clock(profile: RegisterProfile, registers: Sequence[int]) -> dt.datetime | None:
    """The clock last set in ``registers`` (naive, wall time), or None when it holds no valid time."""
    year, month, day, hour, minute, second = registers[profile.clock : profile.clock + CLOCK_REGISTERS]
    try:
        return dt.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - a wall clock has no zone
    except ValueError:
        return None


def encode_command(profile: RegisterProfile, command: Command) -> WriteBlock:
    return WriteBlock(address=profile.control, registers=(int(command),))


def apply_writes(registers: list[int], blocks: Iterable[WriteBlock]) -> None:
    """Apply a write plan to a register image, as a module does (for simulators and tests)."""
    for block in blocks:
        registers[block.address : block.address + len(block.registers)] = block.registers


def _check_image(profile: RegisterProfile, registers: Sequence[int]) -> None:
    if len(registers) < profile.span:
        raise ModbusLedError(f"{len(registers)} registers; profile {profile.name} needs {profile.span}")
    if any(not 0 <= registers[a] <= 0xFFFF for a in range(profile.span)):
        raise ModbusLedError("register value outside 0..65535")


def _decode_row(profile: RegisterProfile, registers: Sequence[int], slot: int) -> DisplayedRow:
    text_at, points_at = profile.text_address(slot), profile.points_address(slot)
    return DisplayedRow(
        rank=registers[profile.ranks + slot],
        name=decode_text(profile, registers[text_at : text_at + profile.text_registers]),
        points=decode_int32(registers[points_at : points_at + 2], profile.word_order),
    )


def decode_registers(profile: RegisterProfile, registers: Sequence[int]) -> DisplayedContent:
    """What a module with this register image shows; raises ModbusLedError for a short image."""
    _check_image(profile, registers)
    used = min(registers[profile.row_count], profile.rows)
    version_words = registers[profile.version : profile.version + profile.version_registers]
    return DisplayedContent(
        title=decode_text(profile, registers[profile.title : profile.title + profile.title_registers]),
        rows=tuple(_decode_row(profile, registers, slot) for slot in range(used)),
        brightness=min(registers[profile.brightness], MAX_BRIGHTNESS),
        page_count=registers[profile.page_count],
        dwell_s=registers[profile.dwell_s],
        version=decode_unsigned(version_words, profile.word_order),
        face=Face.CLOCK if registers[profile.face] == Face.CLOCK else Face.ROWS,
    )
