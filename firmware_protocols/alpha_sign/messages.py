"""Alpha commands and packets as frozen, keyword-only, slotted dataclasses (both directions).

Single-character fields (labels, positions, modes, special-function codes) are ``str`` of length 1
holding the byte as Latin-1; message bodies that may carry control codes are ``bytes``.
"""

from __future__ import annotations

import dataclasses

from firmware_protocols.alpha_sign.constants import BROADCAST_ADDRESS


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WriteText:
    """``A``: write a TEXT file. ``position``/``mode`` None = the old form without ESC."""

    label: str
    message: bytes
    position: str | None = "0"
    mode: str | None = "b"
    special: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ReadText:
    """``B``: ask the sign for a TEXT file; it answers with a WriteText."""

    label: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WriteString:
    """``G``: write a STRING file (updates without blanking the sign)."""

    label: str
    text: bytes


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ReadString:
    """``H``: ask the sign for a STRING file; it answers with a WriteString."""

    label: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class MemoryEntry:
    """One file of a memory configuration: ``F T P SIZE QQQQ``."""

    label: str
    file_type: str  # A TEXT, B STRING, D DOTS (constants.FILE_TYPES)
    locked: str = "L"  # U unlocked, L locked
    size: int  # bytes; for DOTS the 4 hex digits are height (2) and width (2)
    times: str = "0000"  # start/stop times (FFFF always on) for TEXT, 0000 for STRING, colour depth for DOTS


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class MemoryConfiguration:
    """``E$``: allocate files (clears memory); no entries = clear memory."""

    entries: tuple[MemoryEntry, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SetTime:
    """``E `` + HHMM: set the time of day."""

    hour: int
    minute: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SetDate:
    """``E;`` + MMDDYY: set the date (two-digit year)."""

    month: int
    day: int
    year: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SetDayOfWeek:
    """``E&`` + 1..7: set the day of week (1 = Sunday)."""

    day: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WriteSpecialRaw:
    """Any other write special function, kept as its code and raw data."""

    code: str
    data: bytes = b""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ReadSpecial:
    """``F`` + code: ask the sign for a special function's value."""

    code: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WriteSmallDots:
    """``I``: write a SMALL DOTS picture; rows are strings of colour digits ``0``..``8``."""

    label: str
    height: int
    width: int
    rows: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ReadSmallDots:
    """``J``: ask the sign for a SMALL DOTS picture; it answers with a WriteSmallDots."""

    label: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RawCommand:
    """A command this codec does not model (RGB/LARGE DOTS, bulletins...), kept verbatim."""

    code: str
    data: bytes = b""


WriteSpecial = MemoryConfiguration | SetTime | SetDate | SetDayOfWeek | WriteSpecialRaw
Command = (
    WriteText
    | ReadText
    | WriteString
    | ReadString
    | WriteSpecial
    | ReadSpecial
    | WriteSmallDots
    | ReadSmallDots
    | RawCommand
)
READ_COMMANDS = (ReadText, ReadString, ReadSpecial, ReadSmallDots)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    """One transmission: ``SOH type address`` + one or more command groups + ``EOT``.

    ``checksum`` is True when every group carries a checksum (the encoder then writes one per group).
    """

    commands: tuple[Command, ...]
    type_code: str = "Z"
    address: str = BROADCAST_ADDRESS
    checksum: bool = True
