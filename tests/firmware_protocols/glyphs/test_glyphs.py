"""The CJK glyph renderer: Chinese names, ASCII, missing glyphs, and totality on any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols.glyphs import Bitmap, covers, missing_glyph_box, render_text


def test_chinese_name_renders_16_dots_high_and_two_cells_wide() -> None:
    picture = render_text("张三")
    assert (picture.width, picture.height) == (32, 16)
    assert picture.lit() > 40
    assert picture != render_text("李四")


def test_ascii_is_half_width() -> None:
    picture = render_text("No.1 98")
    assert (picture.width, picture.height) == (7 * 8, 16)
    assert picture.lit() > 0
    assert render_text(" ").lit() == 0


def test_gb2312_hanzi_are_all_covered() -> None:
    level_1_and_2 = [bytes((0xB0, 0xA1)).decode("gb2312"), bytes((0xF7, 0xFE)).decode("gb2312")]
    assert all(covers(c) for c in [*level_1_and_2, "积", "分", "榜", "A", "~"])
    assert covers("积分榜")


def test_missing_glyph_becomes_a_box_not_an_error() -> None:
    assert not covers("☃")
    picture = render_text("☃")
    assert picture == missing_glyph_box("☃")
    assert picture.rows[1][1:7] == (True,) * 6
    assert render_text("😀").width == 16  # wide class → wide box


def test_box_detection_has_a_control() -> None:
    """The box test above would pass vacuously if every glyph were a box; it is not."""
    assert render_text("三") != missing_glyph_box("三")


@pytest.mark.parametrize("height", [7, 8, 12, 24, 32])
def test_other_heights_scale(height: int) -> None:
    picture = render_text("张三A", height=height)
    assert picture.height == height
    assert all(len(row) == picture.width for row in picture.rows)
    assert picture.lit() > 0


def test_empty_text_is_an_empty_picture() -> None:
    assert render_text("") == Bitmap(width=0, height=16, rows=((),) * 16)


def test_bitmap_rejects_inconsistent_rows() -> None:
    with pytest.raises(ValueError, match="rows"):
        Bitmap(width=2, height=1, rows=((True,),))


@given(st.text(max_size=12), st.integers(min_value=1, max_value=40))
def test_render_is_total_and_consistent(text: str, height: int) -> None:
    picture = render_text(text, height=height)
    assert picture.height == height
    assert len(picture.rows) == height
    assert all(len(row) == picture.width for row in picture.rows)
    assert (picture.width > 0) == (len(text) > 0)


@given(st.text(alphabet=st.characters(codec="gb2312"), min_size=1, max_size=8))
def test_gb2312_text_needs_no_boxes(text: str) -> None:
    assert covers(text) == all(ord(c) >= 0x20 and ord(c) != 0x7F for c in text)
