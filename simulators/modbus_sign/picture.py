"""The module's face as a PNG: red LED dots, one per pixel of the CJK glyph bitmap of each line.

Stand-in until ``simulators/led_png.py`` (the Alpha sign helper's generic writer) can be shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from firmware_protocols.glyphs import Bitmap, render_text

DOT = 4  # pixels per LED dot, including the dark gap
LIT = (255, 48, 32)
DARK = (40, 8, 8)
BACKGROUND = (0, 0, 0)


def face_bitmap(lines: Sequence[str], *, line_height: int = 16) -> Bitmap:
    """All lines stacked, left-aligned, as one bitmap (at least one dark line)."""
    pictures = [render_text(line, height=line_height) for line in lines] or [
        render_text(" ", height=line_height)
    ]
    width = max(p.width for p in pictures)
    rows = tuple(row + (False,) * (width - p.width) for p in pictures for row in p.rows)
    return Bitmap(width=width, height=len(rows), rows=rows)


def write_png(lines: Sequence[str], path: Path) -> None:
    """Draw ``lines`` as LED dots into ``path`` (written atomically)."""
    face = face_bitmap(lines)
    image = Image.new("RGB", (max(1, face.width) * DOT, face.height * DOT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(face.rows):
        for x, lit in enumerate(row):
            box = (x * DOT, y * DOT, x * DOT + DOT - 2, y * DOT + DOT - 2)
            draw.ellipse(box, fill=LIT if lit else DARK)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    image.save(temporary, format="PNG")
    temporary.replace(path)
