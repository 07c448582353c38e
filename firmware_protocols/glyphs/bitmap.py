"""One-bit pictures: the glyph renderer's output and the LED signs' input."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

Row = tuple[bool, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Bitmap:
    """A monochrome picture; ``rows[y][x]`` is True where the dot is lit."""

    width: int
    height: int
    rows: tuple[Row, ...]

    def __post_init__(self) -> None:
        if len(self.rows) != self.height or any(len(row) != self.width for row in self.rows):
            raise ValueError(f"rows do not match {self.width}x{self.height}")

    def lit(self) -> int:
        """How many dots are lit."""
        return sum(sum(row) for row in self.rows)

    def as_text(self, on: str = "#", off: str = ".") -> str:
        """The picture as lines of text, for logs and test failure messages."""
        return "\n".join("".join(on if dot else off for dot in row) for row in self.rows)


def blank(width: int, height: int) -> Bitmap:
    """A picture of ``width`` × ``height`` dark dots."""
    return Bitmap(width=width, height=height, rows=tuple((False,) * width for _ in range(height)))


def side_by_side(cells: Sequence[Bitmap], height: int) -> Bitmap:
    """Glue pictures of the same ``height`` left to right."""
    rows = tuple(tuple(dot for cell in cells for dot in cell.rows[y]) for y in range(height))
    return Bitmap(width=sum(cell.width for cell in cells), height=height, rows=rows)


def scaled(bitmap: Bitmap, height: int) -> Bitmap:
    """Nearest-neighbour scale to ``height`` rows, keeping the aspect ratio (at least one column)."""
    if height == bitmap.height:
        return bitmap
    width = max(1, round(bitmap.width * height / bitmap.height)) if bitmap.width else 0
    rows = tuple(
        tuple(bitmap.rows[y * bitmap.height // height][x * bitmap.width // width] for x in range(width))
        for y in range(height)
    )
    return Bitmap(width=width, height=height, rows=rows)
