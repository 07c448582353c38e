"""Command bodies: ``code + data`` (the bytes between STX and ETX) to and from messages.

Decoding is lenient where real clients are sloppy (lower-case hex in ``E$`` from alphasign 0.9)
and strict about structure; any violation raises ``AlphaProtocolError``. Encoding always writes
the canonical form (upper-case hex) and refuses framing bytes inside data.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Final

from firmware_protocols.alpha_sign.constants import (
    ESC,
    FILE_TYPES,
    FRAMING_BYTES,
    LOCK_FLAGS,
    MEMORY_CONFIGURATION,
    MEMORY_ENTRY_LENGTH,
    SET_DATE,
    SET_DAY_OF_WEEK,
    SET_TIME,
    SPECIAL_MODE,
)
from firmware_protocols.alpha_sign.errors import AlphaEncodeError, AlphaProtocolError
from firmware_protocols.alpha_sign.messages import (
    Command,
    MemoryConfiguration,
    MemoryEntry,
    RawCommand,
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

_HEX_DIGITS: Final = frozenset(string.hexdigits)
_CR: Final = b"\r"


def _text(data: bytes) -> str:
    return data.decode("latin-1")


def _hex(field: bytes, what: str) -> int:
    """Parse hex digits of either case (alphasign 0.9 sends lower case)."""
    text = _text(field)
    if not text or not set(text) <= _HEX_DIGITS:
        raise AlphaProtocolError(f"{what}: expected hex digits, got {text!r}")
    return int(text, 16)


def _decimal(field: bytes, what: str) -> int:
    text = _text(field)
    if not text.isascii() or not text.isdigit():
        raise AlphaProtocolError(f"{what}: expected decimal digits, got {text!r}")
    return int(text)


def _label(data: bytes, what: str) -> str:
    if len(data) < 1:
        raise AlphaProtocolError(f"{what}: missing file label")
    return _text(data[:1])


def _only_label(data: bytes, what: str) -> str:
    if len(data) != 1:
        raise AlphaProtocolError(f"{what}: expected exactly one label byte, got {len(data)} bytes")
    return _text(data)


# --- decoding ---------------------------------------------------------------------------------


def _decode_write_text(data: bytes) -> WriteText:
    label = _label(data, "write TEXT")
    if len(data) < 2 or data[1] != ESC:
        return WriteText(label=label, position=None, mode=None, message=data[1:])
    if len(data) < 4:
        raise AlphaProtocolError("write TEXT: ESC without position and mode")
    position, mode = _text(data[2:3]), _text(data[3:4])
    if mode != SPECIAL_MODE:
        return WriteText(label=label, position=position, mode=mode, message=data[4:])
    if len(data) < 5:
        raise AlphaProtocolError("write TEXT: special mode without its mode byte")
    return WriteText(label=label, position=position, mode=mode, special=_text(data[4:5]), message=data[5:])


def _decode_memory_entry(field: bytes) -> MemoryEntry:
    label, file_type, locked = _text(field[0:1]), _text(field[1:2]), _text(field[2:3])
    if file_type not in FILE_TYPES:
        raise AlphaProtocolError(f"memory configuration: unknown file type {file_type!r}")
    if locked not in LOCK_FLAGS:
        raise AlphaProtocolError(f"memory configuration: unknown lock flag {locked!r}")
    size = _hex(field[3:7], "memory configuration size")
    return MemoryEntry(label=label, file_type=file_type, locked=locked, size=size, times=_text(field[7:11]))


def _decode_memory_configuration(data: bytes) -> MemoryConfiguration:
    if len(data) % MEMORY_ENTRY_LENGTH:
        raise AlphaProtocolError(f"memory configuration: {len(data)} bytes is not a multiple of 11")
    fields = [data[i : i + MEMORY_ENTRY_LENGTH] for i in range(0, len(data), MEMORY_ENTRY_LENGTH)]
    return MemoryConfiguration(entries=tuple(_decode_memory_entry(f) for f in fields))


def _fixed_digits(data: bytes, length: int, what: str) -> list[int]:
    if len(data) != length:
        raise AlphaProtocolError(f"{what}: expected {length} digits, got {len(data)} bytes")
    return [_decimal(data[i : i + 2], what) for i in range(0, length, 2)]


def _decode_set_time(data: bytes) -> SetTime:
    hour, minute = _fixed_digits(data, 4, "set time")
    return SetTime(hour=hour, minute=minute)


def _decode_set_date(data: bytes) -> SetDate:
    month, day, year = _fixed_digits(data, 6, "set date")
    return SetDate(month=month, day=day, year=year)


def _decode_day_of_week(data: bytes) -> SetDayOfWeek:
    if len(data) != 1:
        raise AlphaProtocolError("set day of week: expected one digit")
    return SetDayOfWeek(day=_decimal(data, "set day of week"))


_SPECIAL_DECODERS: Final[dict[str, Callable[[bytes], Command]]] = {
    MEMORY_CONFIGURATION: _decode_memory_configuration,
    SET_TIME: _decode_set_time,
    SET_DATE: _decode_set_date,
    SET_DAY_OF_WEEK: _decode_day_of_week,
}


def _decode_write_special(data: bytes) -> Command:
    code = _label(data, "write special function")
    decoder = _SPECIAL_DECODERS.get(code)
    return decoder(data[1:]) if decoder else WriteSpecialRaw(code=code, data=data[1:])


def _decode_small_dots(data: bytes) -> WriteSmallDots:
    label = _label(data, "write SMALL DOTS")
    height = _hex(data[1:3], "SMALL DOTS height")
    width = _hex(data[3:5], "SMALL DOTS width")
    body = data[5:]
    rows = _text(body).split("\r") if body else []
    if body.endswith(_CR):
        rows.pop()
    return WriteSmallDots(label=label, height=height, width=width, rows=tuple(rows))


_DECODERS: Final[dict[str, Callable[[bytes], Command]]] = {
    "A": _decode_write_text,
    "B": lambda d: ReadText(label=_only_label(d, "read TEXT")),
    "E": _decode_write_special,
    "F": lambda d: ReadSpecial(code=_only_label(d, "read special function")),
    "G": lambda d: WriteString(label=_label(d, "write STRING"), text=d[1:]),
    "H": lambda d: ReadString(label=_only_label(d, "read STRING")),
    "I": _decode_small_dots,
    "J": lambda d: ReadSmallDots(label=_only_label(d, "read SMALL DOTS")),
}


def decode_command(body: bytes) -> Command:
    """The command in ``body`` (command code + data, as between STX and ETX)."""
    if not body:
        raise AlphaProtocolError("empty command group (STX followed by nothing)")
    code = _text(body[:1])
    decoder = _DECODERS.get(code)
    return decoder(body[1:]) if decoder else RawCommand(code=code, data=body[1:])


# --- encoding ---------------------------------------------------------------------------------


def _byte(value: str | None, what: str) -> bytes:
    if value is None or len(value) != 1 or ord(value) > 0xFF:
        raise AlphaEncodeError(f"{what} must be exactly one Latin-1 character, got {value!r}")
    return value.encode("latin-1")


def _hex_field(value: int, digits: int, what: str) -> bytes:
    if not 0 <= value < 16**digits:
        raise AlphaEncodeError(f"{what} {value} does not fit in {digits} hex digits")
    return f"{value:0{digits}X}".encode()


def _digits(value: int, what: str) -> bytes:
    if not 0 <= value <= 99:
        raise AlphaEncodeError(f"{what} {value} is not two decimal digits")
    return f"{value:02d}".encode()


def _encode_write_text(m: WriteText) -> bytes:
    if m.position is None and m.mode is None:
        if m.message[:1] == bytes([ESC]):
            raise AlphaEncodeError("a message without position/mode cannot start with ESC")
        return b"A" + _byte(m.label, "label") + m.message
    where = _byte(m.position, "position") + _byte(m.mode, "mode")
    head = b"A" + _byte(m.label, "label") + bytes([ESC]) + where
    if (m.mode == SPECIAL_MODE) != (m.special is not None):
        raise AlphaEncodeError("special is required with mode 'n' and only then")
    return head + (_byte(m.special, "special") if m.special is not None else b"") + m.message


def _encode_memory_entry(e: MemoryEntry) -> bytes:
    if e.file_type not in FILE_TYPES or e.locked not in LOCK_FLAGS:
        raise AlphaEncodeError(f"memory entry {e}: bad file type or lock flag")
    times = e.times.encode("latin-1", errors="replace")
    if len(times) != 4:
        raise AlphaEncodeError(f"memory entry {e}: times must be 4 characters")
    head = _byte(e.label, "label") + e.file_type.encode() + e.locked.encode()
    return head + _hex_field(e.size, 4, "size") + times


def _encode_small_dots(m: WriteSmallDots) -> bytes:
    if any("\r" in row for row in m.rows):
        raise AlphaEncodeError("SMALL DOTS rows cannot contain CR")
    dims = _hex_field(m.height, 2, "height") + _hex_field(m.width, 2, "width")
    return b"I" + _byte(m.label, "label") + dims + b"".join(r.encode("latin-1") + _CR for r in m.rows)


def _encode_raw(code: str, data: bytes) -> bytes:
    return _byte(code, "command code") + data


def _encode_day_of_week(m: SetDayOfWeek) -> bytes:
    if not 0 <= m.day <= 9:
        raise AlphaEncodeError(f"day of week {m.day} is not one digit")
    return b"E&" + str(m.day).encode()


def _encode_body(command: Command) -> bytes:
    match command:
        case WriteText():
            return _encode_write_text(command)
        case ReadText() | ReadString() | ReadSmallDots():
            return _READ_CODES[type(command)] + _byte(command.label, "label")
        case WriteString():
            return b"G" + _byte(command.label, "label") + command.text
        case MemoryConfiguration():
            return b"E$" + b"".join(map(_encode_memory_entry, command.entries))
        case SetTime():
            return b"E " + _digits(command.hour, "hour") + _digits(command.minute, "minute")
        case SetDate():
            return b"E;" + b"".join(_digits(v, "date") for v in (command.month, command.day, command.year))
        case SetDayOfWeek():
            return _encode_day_of_week(command)
        case WriteSpecialRaw():
            return b"E" + _encode_raw(command.code, command.data)
        case ReadSpecial():
            return b"F" + _byte(command.code, "code")
        case WriteSmallDots():
            return _encode_small_dots(command)
        case RawCommand():
            return _encode_raw(command.code, command.data)


_READ_CODES: Final[dict[type, bytes]] = {ReadText: b"B", ReadString: b"H", ReadSmallDots: b"J"}


def encode_command(command: Command) -> bytes:
    """``code + data`` for ``command``, as it goes between STX and ETX."""
    body = _encode_body(command)
    if FRAMING_BYTES.intersection(body):
        raise AlphaEncodeError(f"{type(command).__name__}: data contains a framing byte (SOH/STX/ETX/EOT)")
    return body
