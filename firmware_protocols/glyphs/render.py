"""Text → one-bit picture with the bundled GB2312 + ASCII bitmap font (GNU Unifont, 16 dots high).

Rules: every character becomes one cell (8 dots wide for half-width, 16 for CJK); a character the
font lacks becomes a hollow box of the width its East-Asian-width class implies, never an error; a
height other than 16 scales the whole line by nearest neighbour.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from firmware_protocols.glyphs._unifont import GLYPH_HEIGHT, glyph, has_glyph
from firmware_protocols.glyphs.bitmap import Bitmap, blank, scaled, side_by_side

WIDE_CLASSES: Final = frozenset({"W", "F"})


def covers(char: str) -> bool:
    """True when the font has a glyph for every character of ``char`` (usually one character)."""
    return all(has_glyph(c) for c in char)


def missing_glyph_box(char: str) -> Bitmap:
    """The hollow box drawn for a character the font lacks."""
    width = 16 if unicodedata.east_asian_width(char) in WIDE_CLASSES else 8
    last_x, last_y = width - 2, GLYPH_HEIGHT - 2
    rows = tuple(
        tuple(
            (y in (1, last_y) and 1 <= x <= last_x) or (x in (1, last_x) and 1 <= y <= last_y)
            for x in range(width)
        )
        for y in range(GLYPH_HEIGHT)
    )
    return Bitmap(width=width, height=GLYPH_HEIGHT, rows=rows)


def render_text(text: str, *, height: int = 16) -> Bitmap:
    """Draw ``text`` on one line, ``height`` dots high; missing glyphs become boxes."""
    if height < 1:
        raise ValueError(f"height must be at least 1, not {height}")
    cells = [glyph(c) or missing_glyph_box(c) for c in text]
    line = side_by_side(cells, GLYPH_HEIGHT) if cells else blank(0, GLYPH_HEIGHT)
    return scaled(line, height)
