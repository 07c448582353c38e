"""The module's face as a PNG: red LED dots, one per pixel of the CJK glyph bitmap of each line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from firmware_protocols.glyphs import Bitmap
from led_faces import RED, lines_bitmap, render_led_png


def face_bitmap(lines: Sequence[str]) -> Bitmap:
    """All lines stacked, left-aligned, as one bitmap (at least one dark line)."""
    return lines_bitmap(lines)


def write_png(lines: Sequence[str], path: Path) -> None:
    """Draw ``lines`` as red LED dots into ``path`` (atomically)."""
    render_led_png(face_bitmap(lines).rows, path, colour=RED)
