"""Render a sign face as an LED-dot PNG: one round dot per bitmap pixel on a dark board.

Shared by the sign simulators and the cloud dashboard's sign previews, so a preview is drawn by the
same code as a simulator's picture: both signs and the dashboard pass
bitmaps drawn with the signs' glyph font (``firmware_protocols.glyphs``, ``lines_bitmap``) to it.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

Colour = tuple[int, int, int]
AMBER: Colour = (255, 176, 0)
RED: Colour = (255, 40, 20)
BACKGROUND: Colour = (12, 10, 10)
LINE_GAP = 2  # dark rows between text lines


def _unlit(colour: Colour) -> Colour:
    r, g, b = colour
    return (r // 8 + 12, g // 8 + 10, b // 8 + 10)


def led_image(
    bitmap_rows: Sequence[Sequence[bool]],
    *,
    colour: Colour = AMBER,
    pitch: int = 6,
    margin: int = 8,
) -> Image.Image:
    """``bitmap_rows`` (``rows[y][x]`` lit?) drawn as LED dots, lit in ``colour``, unlit ones dim."""
    height = len(bitmap_rows)
    width = max((len(row) for row in bitmap_rows), default=0)
    size = (2 * margin + max(width, 1) * pitch, 2 * margin + max(height, 1) * pitch)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    radius = pitch * 0.4
    for y, row in enumerate(bitmap_rows):
        for x in range(width):
            lit = x < len(row) and row[x]
            cx, cy = margin + (x + 0.5) * pitch, margin + (y + 0.5) * pitch
            box = (cx - radius, cy - radius, cx + radius, cy + radius)
            draw.ellipse(box, fill=colour if lit else _unlit(colour))
    return image


def render_led_png(
    bitmap_rows: Sequence[Sequence[bool]],
    path: Path,
    *,
    colour: Colour = AMBER,
    pitch: int = 6,
    margin: int = 8,
) -> None:
    """Write ``bitmap_rows`` as an LED-dot PNG at ``path``, atomically."""
    _save_atomically(led_image(bitmap_rows, colour=colour, pitch=pitch, margin=margin), path)


def led_png_bytes(
    bitmap_rows: Sequence[Sequence[bool]], *, colour: Colour = AMBER, pitch: int = 6, margin: int = 8
) -> bytes:
    """The same picture as ``render_led_png`` draws, as PNG bytes (for an HTTP response)."""
    out = io.BytesIO()
    led_image(bitmap_rows, colour=colour, pitch=pitch, margin=margin).save(out, format="PNG")
    return out.getvalue()


def _save_atomically(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
