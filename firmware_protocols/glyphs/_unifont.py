"""The bundled GNU Unifont subset (FONT-LICENSE.md), parsed once on first use.

Format of ``unifont-gb2312.hex``: one glyph a line, ``XXXX:<hex>``; 32 hex digits make an 8×16 glyph,
64 a 16×16 one; each row is 1 or 2 bytes, most significant bit = leftmost dot.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Final

from firmware_protocols.glyphs.bitmap import Bitmap

FONT_FILE: Final = "unifont-gb2312.hex"
GLYPH_HEIGHT: Final = 16


@functools.cache
def _hex_table() -> dict[str, str]:
    text = resources.files(__package__).joinpath(FONT_FILE).read_text(encoding="ascii")
    table: dict[str, str] = {}
    for line in text.splitlines():
        code, _, digits = line.partition(":")
        if code and digits:
            table[chr(int(code, 16))] = digits
    return table


def has_glyph(char: str) -> bool:
    """True when the font draws ``char`` (one character)."""
    return char in _hex_table()


@functools.cache
def glyph(char: str) -> Bitmap | None:
    """The 16-dot-high picture of ``char``, or None when the font lacks it."""
    digits = _hex_table().get(char)
    if digits is None:
        return None
    width = len(digits) * 4 // GLYPH_HEIGHT
    value = int(digits, 16)
    total = width * GLYPH_HEIGHT
    rows = tuple(
        tuple(bool(value >> (total - 1 - (y * width + x)) & 1) for x in range(width))
        for y in range(GLYPH_HEIGHT)
    )
    return Bitmap(width=width, height=GLYPH_HEIGHT, rows=rows)
