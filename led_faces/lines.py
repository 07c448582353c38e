"""Sign lines as one bitmap in the CJK glyph font: the Modbus module's face and the dashboard's previews."""

from __future__ import annotations

from collections.abc import Sequence

from firmware_protocols.glyphs import Bitmap, render_text

LINE_HEIGHT = 16  # dots: the glyph font's native height


def lines_bitmap(lines: Sequence[str]) -> Bitmap:
    """All lines stacked, left-aligned, as one bitmap (at least one dark line)."""
    pictures = [render_text(line, height=LINE_HEIGHT) for line in lines] or [
        render_text(" ", height=LINE_HEIGHT)
    ]
    width = max(p.width for p in pictures)
    rows = tuple(row + (False,) * (width - p.width) for p in pictures for row in p.rows)
    return Bitmap(width=width, height=len(rows), rows=rows)
