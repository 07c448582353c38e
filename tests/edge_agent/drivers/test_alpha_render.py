"""Pure rendering and diffing of sign content into Alpha files."""

from __future__ import annotations

import dataclasses

from edge_agent.drivers.alpha_sign.render import (
    AlphaFiles,
    Geometry,
    changes,
    memory_configuration,
    render,
    row_text,
)
from firmware_protocols.alpha_sign import WriteString, WriteText
from firmware_protocols.sync import RankRow, SignContent

GEOMETRY = Geometry(columns=15, rows=3)


def content(title: str = "TOP 3", *points: int) -> SignContent:
    names = ["Alice", "Bob", "Christopher Columbus"]
    rows = tuple(
        RankRow(rank=i + 1, name=n, points=p) for i, (n, p) in enumerate(zip(names, points, strict=False))
    )
    return SignContent(sign="lobby", title=title, period="2026-11", rows=rows)


def test_row_text_truncates_names_and_right_aligns_points() -> None:
    assert row_text(RankRow(rank=1, name="Alice", points=42), 15) == "1 Alice      42"
    assert row_text(RankRow(rank=3, name="Christopher Columbus", points=-7), 15) == "3 Christophe -7"
    assert row_text(RankRow(rank=12, name="Zoë 张三", points=5), 12) == "12 Zo? ??  5"
    assert row_text(RankRow(rank=1, name="X", points=123456789), 8) == "1 123456"


def test_memory_configuration_allocates_text_a_one_string_and_one_picture_per_row() -> None:
    entries = memory_configuration(GEOMETRY).entries
    assert [(e.label, e.file_type, e.locked) for e in entries] == [
        ("A", "A", "U"),
        ("1", "B", "L"),
        ("2", "B", "L"),
        ("3", "B", "L"),
        ("B", "D", "U"),
        ("C", "D", "U"),
        ("D", "D", "U"),
    ]
    assert all(e.size == 15 for e in entries[1:4])
    assert all(e.size == 0x1078 for e in entries[4:])  # 16 dots high, 15 × 8 wide


def test_text_file_holds_the_title_and_string_calls() -> None:
    files = render(content("TOP 3", 42, 17), GEOMETRY)
    assert files.text == WriteText(label="A", position="0", mode="b", message=b"TOP 3\r\x101\r\x102\r\x103")
    assert [s.text for s in files.strings] == [b"1 Alice      42", b"2 Bob        17", b""]
    assert len(files.text.message) <= memory_configuration(GEOMETRY).entries[0].size


def test_first_send_is_everything_and_a_changed_row_is_only_its_string() -> None:
    first = render(content("TOP 3", 42, 17), GEOMETRY)
    assert changes(None, first) == [first.text, *first.strings]
    second = render(content("TOP 3", 42, 18), GEOMETRY)
    assert changes(first, second) == [WriteString(label="2", text=b"2 Bob        18")]
    assert changes(second, second) == []


def test_a_new_title_resends_the_text_but_not_unchanged_strings() -> None:
    first = render(content("TOP 3", 42), GEOMETRY)
    second = render(content("BEST", 42), GEOMETRY)
    assert changes(first, second) == [second.text]


def test_a_chinese_name_becomes_a_picture_row_called_from_the_text() -> None:
    rows = (RankRow(rank=1, name="Alice", points=42), RankRow(rank=2, name="张三", points=17))
    files = render(SignContent(sign="lobby", title="TOP", period="p", rows=rows), GEOMETRY)
    assert files.text.message == b"TOP\r\x101\r\x14C\r\x103"
    assert [s.text for s in files.strings] == [b"1 Alice      42", b"", b""]
    (picture,) = files.pictures
    assert (picture.label, picture.height, picture.width) == ("C", 16, 120)
    assert all(len(row) == 120 and set(row) <= {"0", "1"} for row in picture.rows)
    assert any("1" in row[:16] for row in picture.rows)  # the rank
    assert any("1" in row[-16:] for row in picture.rows)  # the points, right-aligned


def test_changing_a_picture_row_sends_only_that_picture() -> None:
    def files(points: int) -> AlphaFiles:
        rows = (RankRow(rank=1, name="张三", points=points),)
        return render(SignContent(sign="lobby", title="TOP", period="p", rows=rows), GEOMETRY)

    first, second = files(1), files(2)
    assert changes(None, first)[0] == first.pictures[0]  # the picture lands before the TEXT calls it
    assert changes(first, second) == [second.pictures[0]]


def lines(*text: str, kind: str = "announcement") -> SignContent:
    return SignContent(sign="lobby", title="NOTICE", period="", rows=(), kind=kind, lines=text)


def test_lines_take_the_row_slots_as_strings_cut_to_the_columns() -> None:
    files = render(lines("Fire drill at 3pm today", "Gate B"), GEOMETRY)
    assert files.text == render(content("NOTICE", 1, 2), GEOMETRY).text  # same layout as a ranking
    assert [s.text for s in files.strings] == [b"Fire drill at 3", b"Gate B", b""]
    assert files.pictures == ()


def test_a_chinese_line_becomes_a_picture_called_from_the_text() -> None:
    files = render(lines("Today", "今天停电"), GEOMETRY)
    assert files.text.message == b"NOTICE\r\x101\r\x14C\r\x103"
    assert [s.text for s in files.strings] == [b"Today", b"", b""]
    (picture,) = files.pictures
    assert (picture.label, picture.height, picture.width) == ("C", 16, 120)
    assert any("1" in row[:16] for row in picture.rows)  # 今 is drawn at the left
    assert all(set(row[64:]) == {"0"} for row in picture.rows)  # 4 hanzi = 64 dots, then dark


def test_lines_win_over_rows_and_extra_lines_are_dropped() -> None:
    both = SignContent(
        sign="lobby",
        title="T",
        period="",
        rows=content("T", 5).rows,
        kind="clock",
        lines=("a", "b", "c", "d"),
    )
    assert [s.text for s in render(both, GEOMETRY).strings] == [b"a", b"b", b"c"]
    control = render(dataclasses.replace(both, lines=()), GEOMETRY)
    assert control.strings[0].text == b"1 Alice       5"  # control: without lines the rows show
