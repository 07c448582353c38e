"""SignContent → Alpha files, and the smallest set of packets that moves the sign from old to new.

Layout (fixed by the sign's geometry, so a ranking update never re-sends the TEXT file):
- memory: TEXT ``A`` (unlocked, always on) + one STRING per row, labels ``1``…``9``, ``a``…;
- TEXT ``A``: the title line, then one line per row holding only a STRING call (0x10 + label);
- STRING per row: ``"1 Alice      42"`` fitted to ``columns`` (names truncated, points right-aligned).
A STRING updates without blanking the sign; the TEXT is re-sent only when the title changes or a row
switches between text and picture.
Alpha fonts are Latin-only: a row whose name is not printable ASCII is drawn as a SMALL DOTS picture
(labels ``B``…, one allocated per row; pictures.py) and the TEXT calls it with 0x14 + label instead;
elsewhere (the title) such characters become ``?``.
Free text ``lines`` (announcement, clock, latest events), when present, take the rows' places: one
line per row slot, a STRING cut to ``columns``, or the same SMALL DOTS picture path when the line is
not printable ASCII — so the memory layout is the same for every kind.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from edge_agent.drivers.alpha_sign.pictures import (
    DARK,
    LIT,
    MONOCHROME,
    PICTURE_HEIGHT,
    needs_picture,
    picture_width,
    row_picture,
)
from firmware_protocols.alpha_sign import (
    Command,
    MemoryConfiguration,
    MemoryEntry,
    WriteSmallDots,
    WriteString,
    WriteText,
)
from firmware_protocols.alpha_sign.constants import CALL_SMALL_DOTS, CALL_STRING, DEFAULT_TEXT_LABEL, NEW_LINE
from firmware_protocols.glyphs import Bitmap, render_text, side_by_side
from firmware_protocols.glyphs import blank as blank_bitmap
from firmware_protocols.sync import RankRow, SignContent

Slot = RankRow | str | None  # a ranking row, a free text line, or nothing

STRING_LABELS: Final = "123456789abcdefghijklmnopqrstuvwxyz"
PICTURE_LABELS: Final = "BCDEFGHIJKLMNOPQRSTUVWXYZ"  # labels share one namespace; A is the TEXT file
MAX_ROWS: Final = min(len(STRING_LABELS), len(PICTURE_LABELS))
FILL: Final = "0"  # position: fill the face
HOLD: Final = "b"  # mode: hold (no animation)
ALWAYS: Final = "FFFF"  # TEXT start/stop times: always on
STRING_TIMES: Final = "0000"
CALL_TIME: Final = 0x13  # control code: the sign draws its own clock here
LIVE_CLOCK: Final = "clock"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Geometry:
    """What the sign can show: characters per line and ranking rows."""

    columns: int
    rows: int

    def __post_init__(self) -> None:
        if not 1 <= self.rows <= MAX_ROWS:
            raise ValueError(f"rows must be 1..{MAX_ROWS}, not {self.rows}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AlphaFiles:
    """The files that make the sign show one SignContent."""

    text: WriteText
    strings: tuple[WriteString, ...]
    pictures: tuple[WriteSmallDots, ...] = ()


def row_labels(geometry: Geometry) -> str:
    """The STRING labels of the ranking rows, top row first."""
    return STRING_LABELS[: geometry.rows]


def picture_labels(geometry: Geometry) -> str:
    """The SMALL DOTS labels of the ranking rows, top row first."""
    return PICTURE_LABELS[: geometry.rows]


def memory_configuration(geometry: Geometry) -> MemoryConfiguration:
    """The allocation for ``geometry``: TEXT A, one locked STRING and one picture per row."""
    text_size = geometry.columns + 1 + 3 * geometry.rows  # title, CR, then 0x10 label CR per row
    text = MemoryEntry(label=DEFAULT_TEXT_LABEL, file_type="A", locked="U", size=text_size, times=ALWAYS)
    strings = (
        MemoryEntry(label=label, file_type="B", locked="L", size=geometry.columns, times=STRING_TIMES)
        for label in row_labels(geometry)
    )
    dots_size = PICTURE_HEIGHT * 256 + picture_width(geometry.columns)  # HHWW
    pictures = (
        MemoryEntry(label=label, file_type="D", locked="U", size=dots_size, times=MONOCHROME)
        for label in picture_labels(geometry)
    )
    return MemoryConfiguration(entries=(text, *strings, *pictures))


def ascii_only(text: str) -> str:
    """``text`` with every character the sign's Latin font cannot draw replaced by ``?``."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def row_text(row: RankRow, columns: int) -> str:
    """``"<rank> <name>   <points>"`` in exactly ``columns`` characters (the name gives way first)."""
    rank, points = str(row.rank), str(row.points)
    room = columns - len(rank) - len(points) - 2  # a space after the rank, at least one before points
    if room < 1:
        return f"{rank} {points}"[:columns].ljust(columns)
    name = ascii_only(row.name)[:room]
    return f"{rank} {name.ljust(room)} {points}"


def _shown_text(item: RankRow | str) -> str:
    return item.name if isinstance(item, RankRow) else item


def _is_picture(item: Slot) -> bool:
    return item is not None and needs_picture(_shown_text(item))


def _row_call(item: Slot, string_label: str, picture_label: str) -> bytes:
    if _is_picture(item):
        return bytes([CALL_SMALL_DOTS]) + picture_label.encode()
    return bytes([CALL_STRING]) + string_label.encode()


def live_clock(content: SignContent, geometry: Geometry) -> AlphaFiles:
    """The title, then the sign's own time (call-time code): live, whatever the agent does."""
    title = ascii_only(content.title)[: geometry.columns].encode("ascii")
    message = title + bytes([NEW_LINE, CALL_TIME])
    text = WriteText(label=DEFAULT_TEXT_LABEL, position=FILL, mode=HOLD, message=message)
    strings = tuple(WriteString(label=label, text=b"") for label in row_labels(geometry))
    return AlphaFiles(text=text, strings=strings)


def render(content: SignContent, geometry: Geometry) -> AlphaFiles:
    """The TEXT, STRING and picture files showing ``content`` on a sign of ``geometry``.

    A ``clock`` content without lines or rows is the live clock (``live_clock``); the cloud's older clock
    content, a timestamp in ``lines``, is shown as the text it is.
    """
    if content.kind == LIVE_CLOCK and not content.lines and not content.rows:
        return live_clock(content, geometry)
    shown: tuple[RankRow | str, ...] = content.lines or content.rows
    items: list[Slot] = [*shown[: geometry.rows]]
    items += [None] * (geometry.rows - len(items))
    slots = list(zip(items, row_labels(geometry), picture_labels(geometry), strict=True))
    title = ascii_only(content.title)[: geometry.columns].encode("ascii")
    calls = [_row_call(item, string, picture) for item, string, picture in slots]
    text = WriteText(
        label=DEFAULT_TEXT_LABEL, position=FILL, mode=HOLD, message=bytes([NEW_LINE]).join([title, *calls])
    )
    strings = tuple(
        WriteString(label=string, text=_string_text(item, geometry.columns)) for item, string, _ in slots
    )
    pictures = tuple(
        _picture(picture, item, geometry.columns)
        for item, _, picture in slots
        if item is not None and _is_picture(item)
    )
    return AlphaFiles(text=text, strings=strings, pictures=pictures)


def _picture(label: str, item: RankRow | str, columns: int) -> WriteSmallDots:
    if isinstance(item, RankRow):
        return row_picture(label, item, columns)
    return line_picture(label, item, columns)


def line_picture(label: str, line: str, columns: int) -> WriteSmallDots:
    """The SMALL DOTS write that draws a free text ``line`` (cut at the right edge) as ``label``."""
    width = picture_width(columns)
    drawn = render_text(line, height=PICTURE_HEIGHT)
    cut = tuple(row[:width] for row in drawn.rows)
    used = min(drawn.width, width)
    gap = blank_bitmap(width - used, PICTURE_HEIGHT)
    bitmap = side_by_side([Bitmap(width=used, height=drawn.height, rows=cut), gap], PICTURE_HEIGHT)
    digits = tuple("".join(LIT if dot else DARK for dot in row) for row in bitmap.rows)
    return WriteSmallDots(label=label, height=bitmap.height, width=bitmap.width, rows=digits)


def _string_text(item: Slot, columns: int) -> bytes:
    """A slot's STRING; empty when there is nothing in it or it is drawn as a picture."""
    if item is None or _is_picture(item):
        return b""
    if isinstance(item, RankRow):
        return row_text(item, columns).encode("ascii")
    return item[:columns].encode("ascii")


def changes(sent: AlphaFiles | None, wanted: AlphaFiles) -> list[Command]:
    """The writes that turn ``sent`` (None: unknown, e.g. after a reconnect) into ``wanted``."""
    if sent is None or len(sent.strings) != len(wanted.strings):
        return [*wanted.pictures, wanted.text, *wanted.strings]
    old_pictures = set(sent.pictures)
    text: list[Command] = [wanted.text] if sent.text != wanted.text else []
    strings = [new for old, new in zip(sent.strings, wanted.strings, strict=True) if old != new]
    # Pictures first, so the TEXT never calls a picture the sign does not hold yet.
    return [p for p in wanted.pictures if p not in old_pictures] + text + strings
