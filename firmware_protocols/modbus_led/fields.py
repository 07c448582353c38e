"""Field codecs: text and int32 values in 16-bit registers, per profile byte and word order.

Text rules: each character is encoded on its own, so a text that does not fit is cut on a character
boundary, never inside a GBK double byte or a UTF-16 surrogate pair; a character the encoding cannot
carry (or NUL, which ends a text) becomes ``?``; unused bytes are 0x00. Decoding stops at the first
0x00 byte and replaces invalid byte sequences with U+FFFD, as a module would show garbage: total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from firmware_protocols.modbus_led.profiles import ByteOrder, RegisterProfile

INT32_MIN: Final = -(1 << 31)
INT32_MAX: Final = (1 << 31) - 1
TEXT_CODECS: Final = {"gbk": "gbk", "utf-16be": "utf-16-be", "ascii": "ascii"}
UNIT_BYTES: Final = {"gbk": 1, "utf-16be": 2, "ascii": 1}  # the NUL terminator's width


def _encode_char(char: str, codec: str) -> bytes:
    if char == "\x00":
        return "?".encode(codec)
    try:
        return char.encode(codec)
    except UnicodeEncodeError:
        return "?".encode(codec)


def text_bytes(profile: RegisterProfile, text: str, capacity: int) -> bytes:
    """``text`` encoded for ``profile``, cut on a character boundary to at most ``capacity`` bytes."""
    codec = TEXT_CODECS[profile.text_encoding]
    out = bytearray()
    for char in text:
        encoded = _encode_char(char, codec)
        if len(out) + len(encoded) > capacity:
            break
        out += encoded
    return bytes(out)


def shown_text(profile: RegisterProfile, text: str, capacity: int) -> str:
    """The text a module shows after ``text`` went through ``text_bytes``."""
    return text_bytes(profile, text, capacity).decode(TEXT_CODECS[profile.text_encoding])


def bytes_to_registers(data: bytes, count: int, order: ByteOrder) -> tuple[int, ...]:
    """Pack ``data`` two bytes a register into exactly ``count`` registers, padding with 0x00."""
    padded = data.ljust(2 * count, b"\x00")
    pairs = (padded[i : i + 2] for i in range(0, 2 * count, 2))
    return tuple(int.from_bytes(pair, order) for pair in pairs)


def registers_to_bytes(registers: Sequence[int], order: ByteOrder) -> bytes:
    return b"".join(value.to_bytes(2, order) for value in registers)


def encode_text(profile: RegisterProfile, text: str, count: int) -> tuple[int, ...]:
    """``text`` as ``count`` registers of ``profile``'s encoding and byte order."""
    return bytes_to_registers(text_bytes(profile, text, 2 * count), count, profile.text_byte_order)


def decode_text(profile: RegisterProfile, registers: Sequence[int]) -> str:
    """The text held in ``registers``, up to the first NUL unit."""
    data = registers_to_bytes(registers, profile.text_byte_order)
    unit = UNIT_BYTES[profile.text_encoding]
    end = next((i for i in range(0, len(data) - unit + 1, unit) if not any(data[i : i + unit])), len(data))
    return data[:end].decode(TEXT_CODECS[profile.text_encoding], errors="replace")


def clamp_int32(value: int) -> int:
    """Points beyond int32 saturate: the display shows the limit rather than a wrapped number."""
    return max(INT32_MIN, min(INT32_MAX, value))


def encode_int32(value: int, word_order: ByteOrder) -> tuple[int, int]:
    raw = clamp_int32(value) & 0xFFFFFFFF
    high, low = raw >> 16, raw & 0xFFFF
    return (high, low) if word_order == "big" else (low, high)


def decode_int32(words: Sequence[int], word_order: ByteOrder) -> int:
    high, low = (words[0], words[1]) if word_order == "big" else (words[1], words[0])
    raw = (high << 16) | low
    return raw - (1 << 32) if raw > INT32_MAX else raw


def encode_unsigned(value: int, registers: int, word_order: ByteOrder) -> tuple[int, ...]:
    """An unsigned value modulo 2**(16·registers), in ``registers`` words."""
    value %= 1 << (16 * registers)
    words = tuple((value >> (16 * i)) & 0xFFFF for i in reversed(range(registers)))
    return words if word_order == "big" else words[::-1]


def decode_unsigned(words: Sequence[int], word_order: ByteOrder) -> int:
    ordered = list(words) if word_order == "big" else list(reversed(words))
    value = 0
    for word in ordered:
        value = (value << 16) | word
    return value
