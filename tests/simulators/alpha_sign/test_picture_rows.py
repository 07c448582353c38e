"""Picture rows read back as text (console, state) and drawn in the text rows' columns (PNG)."""

from __future__ import annotations

from edge_agent.drivers.alpha_sign.pictures import row_picture
from edge_agent.drivers.alpha_sign.render import row_text
from firmware_protocols.alpha_sign import MemoryConfiguration, MemoryEntry
from firmware_protocols.glyphs import read_text, render_text
from firmware_protocols.sync import RankRow
from simulators.alpha_sign import SignMemory
from simulators.alpha_sign.face import face_bitmap
from simulators.demo import with_picture_text

COLUMNS = 16
CHINESE = RankRow(rank=1, name="张小三", points=42)
LATIN = RankRow(rank=2, name="Bob", points=42)


def picture_state() -> dict[str, object]:
    picture = row_picture("B", CHINESE, COLUMNS)
    memory = SignMemory()
    memory.apply(
        MemoryConfiguration(
            entries=(MemoryEntry(label="B", file_type="D", locked="U", size=0x1080, times="1000"),)
        )
    )
    memory.apply(picture)
    return memory.snapshot()


def test_a_picture_row_reads_back_as_its_text() -> None:
    assert read_text(render_text("1 张三 42").rows) == "1 张三 42"
    pictures = picture_state()["pictures"]
    assert isinstance(pictures, dict)
    assert pictures["B"]["text"] == "1 张小三      42"  # 16 columns: a hanzi takes two
    assert with_picture_text("[dots B]", pictures) == "[dots B] 1 张小三      42"
    assert with_picture_text("2 Bob        42", pictures) == "2 Bob        42"  # control: a text row


def test_unknown_dots_read_as_question_marks() -> None:
    noise = [[(x * 7 + y * 3) % 5 == 0 for x in range(16)] for y in range(16)]
    assert read_text(noise) == "??"
    assert read_text([[False] * 8]) == "?"  # not a 16-dot-high picture


def test_png_face_puts_picture_points_in_the_text_rows_columns() -> None:
    state = picture_state()
    state["showing"] = [row_text(LATIN, COLUMNS), "[dots B]"]
    rows = face_bitmap(state)
    text_block, picture_block = rows[:16], rows[-16:]
    assert len(text_block[0]) == len(picture_block[0]) == COLUMNS * 8
    points = slice(COLUMNS * 8 - 16, COLUMNS * 8)  # the last two columns: "42" in both rows
    assert [row[points] for row in text_block] == [row[points] for row in picture_block]
    assert any(any(row[points]) for row in text_block)  # control: the points are drawn at all
