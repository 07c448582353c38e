"""Pictures drawn by ``render_text`` (16 dots high) read back as text: the font, used backwards.

A picture row of an LED sign is cells on an 8-dot grid from its left edge (8 dots a half-width
character, 16 a CJK one), so each cell's dots are the font's hex digits of one glyph. Reading, left
to right: a dark 8-dot cell is a space; else a 16-dot cell that is a glyph; else an 8-dot one; else
``?`` for 8 dots (a cut or unknown glyph). Runs of spaces are kept: they are the sign's columns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from firmware_protocols.glyphs._unifont import GLYPH_HEIGHT, _hex_table

UNKNOWN = "?"


@functools.cache
def _by_digits() -> dict[str, str]:
    """Hex digits → character (the first character in font order wins a tie)."""
    table: dict[str, str] = {}
    for char, digits in _hex_table().items():
        table.setdefault(digits.upper(), char)
    return table


def _cell_digits(rows: Sequence[Sequence[bool]], x: int, width: int) -> str | None:
    """The hex digits of the ``width``-dot cell at ``x``; None when the picture ends before it does."""
    if any(len(row) < x + width for row in rows):
        return None
    value = 0
    for row in rows:
        for dot in row[x : x + width]:
            value = value << 1 | bool(dot)
    return f"{value:0{width * GLYPH_HEIGHT // 4}X}"


def read_text(rows: Sequence[Sequence[bool]]) -> str:
    """The text a 16-dot-high picture shows (``?`` for cells that are no glyph of the font)."""
    if len(rows) != GLYPH_HEIGHT:
        return UNKNOWN
    glyphs, width = _by_digits(), max((len(row) for row in rows), default=0)
    out: list[str] = []
    x = 0
    while x + 8 <= width:
        narrow = _cell_digits(rows, x, 8)
        wide = _cell_digits(rows, x, 16)
        if narrow is not None and not int(narrow, 16):
            out.append(" ")
            x += 8
        elif wide is not None and wide in glyphs:
            out.append(glyphs[wide])
            x += 16
        else:
            out.append(glyphs.get(narrow or "", UNKNOWN))
            x += 8
    return "".join(out)
