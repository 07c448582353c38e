"""The sign face as one bitmap: text lines in the Latin bitmap font, called pictures dot for dot."""

from __future__ import annotations

import re
from typing import Any

from led_faces import LINE_GAP, text_bitmap

PICTURE_LINE = re.compile(r"\[dots (.)\]")

Bitmap = list[list[bool]]


def _line_bitmap(line: str, pictures: dict[str, Any]) -> Bitmap:
    match = PICTURE_LINE.fullmatch(line)
    picture = pictures.get(match.group(1)) if match else None
    if picture is None:
        return text_bitmap([line])
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
