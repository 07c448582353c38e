"""Rows the sign's Latin font cannot draw (Chinese names) as SMALL DOTS pictures.

A picture row is the whole ranking row — rank, name, right-aligned points — drawn with the bundled
GB2312 bitmap font (``firmware_protocols.glyphs``, 16 dots high, 8 dots per half-width character),
``columns × 8`` dots wide (at most 255, the protocol's limit). Lit dots use colour digit ``1`` (red
on a tri-colour sign), dark dots ``0``.
"""

from __future__ import annotations

from typing import Final

from firmware_protocols.alpha_sign import WriteSmallDots
from firmware_protocols.glyphs import Bitmap, blank, render_text, side_by_side
from firmware_protocols.sync import RankRow

PICTURE_HEIGHT: Final = 16
DOTS_PER_COLUMN: Final = 8
MAX_WIDTH: Final = 255
LIT: Final = "1"
DARK: Final = "0"
MONOCHROME: Final = "1000"  # the "times" field of a DOTS memory entry is its colour depth


def picture_width(columns: int) -> int:
    """Dots across a picture row for a sign of ``columns`` characters."""
    return min(columns * DOTS_PER_COLUMN, MAX_WIDTH)


def needs_picture(name: str) -> bool:
    """True when the Latin font cannot draw ``name``."""
    return not all(" " <= c <= "~" for c in name)


def _cropped(bitmap: Bitmap, width: int) -> Bitmap:
    rows = tuple(row[:width] for row in bitmap.rows)
    return Bitmap(width=min(bitmap.width, width), height=bitmap.height, rows=rows)


def row_bitmap(row: RankRow, width: int) -> Bitmap:
    """``rank name … points`` in exactly ``width`` dots; the name is cut first."""
    points = _cropped(render_text(f" {row.points}", height=PICTURE_HEIGHT), width)
    left = _cropped(render_text(f"{row.rank} {row.name}", height=PICTURE_HEIGHT), width - points.width)
    gap = blank(width - left.width - points.width, PICTURE_HEIGHT)
    return side_by_side([left, gap, points], PICTURE_HEIGHT)


def row_picture(label: str, row: RankRow, columns: int) -> WriteSmallDots:
    """The SMALL DOTS write that draws ``row`` as picture ``label``."""
    bitmap = row_bitmap(row, picture_width(columns))
    digits = tuple("".join(LIT if dot else DARK for dot in line) for line in bitmap.rows)
    return WriteSmallDots(label=label, height=bitmap.height, width=bitmap.width, rows=digits)
