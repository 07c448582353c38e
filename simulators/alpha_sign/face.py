"""The sign face as one bitmap: text lines in the signs' glyph font, called pictures dot for dot.

Text lines are drawn with the same 16-dot font (8 dots a character) the agent draws picture rows
with, so a picture row's points sit in the same columns as a text row's.
"""

from __future__ import annotations

import re
from typing import Any

from firmware_protocols.glyphs import render_text
from led_faces import LINE_GAP

PICTURE_LINE = re.compile(r"\[dots (.)\]")

Bitmap = list[list[bool]]


def _line_bitmap(line: str, pictures: dict[str, Any]) -> Bitmap:
    match = PICTURE_LINE.fullmatch(line)
    picture = pictures.get(match.group(1)) if match else None
    if picture is None:
        return [list(row) for row in render_text(line, height=16).rows]
    return [[digit != "0" for digit in row] for row in picture["rows"]]


def face_bitmap(state: dict[str, Any]) -> Bitmap:
    """Every line of ``state["showing"]`` stacked, a line that is only a picture call drawn as the picture."""
    lines: list[str] = state["showing"] or [""]
    blocks = [_line_bitmap(line, state["pictures"]) for line in lines]
    width = max((len(row) for block in blocks for row in block), default=1)
    rows: Bitmap = []
    for block in blocks:
        if rows:
            rows += [[False] * width for _ in range(LINE_GAP)]
        rows += [row + [False] * (width - len(row)) for row in block]
    return rows
