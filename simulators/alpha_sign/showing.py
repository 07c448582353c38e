"""What the sign face shows: a TEXT file with STRING calls expanded and control codes stripped.

Rules (M-Protocol control codes, firmware_protocols/alpha_sign/constants.CONTROL_ARGUMENTS):
``0x10 L`` is replaced by STRING file L (itself stripped); ``0x14 L`` by ``[dots L]`` (a picture);
``0x0D`` starts a new line, ``0x0C`` a new page; every other control code is removed together with
its argument bytes; any other byte below 0x20 is removed. ``0x13`` (call time) shows the sign's
own clock as ``HH:MM``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from firmware_protocols.alpha_sign.constants import (
    CALL_SMALL_DOTS,
    CALL_STRING,
    COLOUR_RGB,
    CONTROL_ARGUMENTS,
    NEW_LINE,
    NEW_PAGE,
    SPECIAL_MODE,
)

Page = list[str]
CALL_TIME = 0x13


def _argument_length(message: bytes, i: int) -> int:
    code = message[i]
    length = CONTROL_ARGUMENTS.get(code, 0)
    if code == 0x1C and message[i + 1 : i + 2] == bytes([COLOUR_RGB]):
        return 7
    if code == 0x1B and message[i + 2 : i + 3] == SPECIAL_MODE.encode():
        return 3
    return length


def plain_text(message: bytes, call: Callable[[int, int], str] | None = None, time_text: str = "") -> str:
    """``message`` with control codes stripped; calls (0x10/0x14 + label) replaced by ``call``."""
    out: list[str] = []
    i = 0
    while i < len(message):
        byte = message[i]
        if byte in (NEW_LINE, NEW_PAGE):
            out.append(chr(byte))
        elif byte in (CALL_STRING, CALL_SMALL_DOTS) and call and i + 1 < len(message):
            out.append(call(byte, message[i + 1]))
        elif byte == CALL_TIME:
            out.append(time_text)
        elif byte >= 0x20:
            out.append(chr(byte))
        i += 1 + (_argument_length(message, i) if byte < 0x20 else 0)
    return "".join(out)


def showing_pages(message: bytes, strings: Mapping[str, bytes], time_text: str = "") -> list[Page]:
    """Pages of lines that ``message`` shows, with ``strings`` as the STRING files."""

    def call(code: int, label: int) -> str:
        if code == CALL_STRING:
            return plain_text(strings.get(chr(label), b"")).replace("\r", " ").replace("\x0c", " ")
        return f"[dots {chr(label)}]"

    text = plain_text(message, call, time_text)
    return [page.split("\r") for page in text.split("\x0c")]
