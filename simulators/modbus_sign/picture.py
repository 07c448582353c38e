"""The module's face as a PNG: red LED dots, one per pixel of the CJK glyph bitmap of each line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from firmware_protocols.glyphs import Bitmap, render_text
from simulators.led_png import RED, render_led_png

LINE_HEIGHT = 16  # dots: the glyph font's native height


def face_bitmap(lines: Sequence[str]) -> Bitmap:
    """All lines stacked, left-aligned, as one bitmap (at least one dark line)."""
    pictures = [render_text(line, height=LINE_HEIGHT) for line in lines] or [
        render_text(" ", height=LINE_HEIGHT)
    ]
    width = max(p.width for p in pictures)
    rows = tuple(row + (False,) * (width - p.width) for p in pictures for row in p.rows)
    return Bitmap(width=width, height=len(rows), rows=rows)


def write_png(lines: Sequence[str], path: Path) -> None:
    """Draw ``lines`` as red LED dots into ``path`` (atomically)."""
    render_led_png(face_bitmap(lines).rows, path, colour=RED)
