"""The points-display register map: exact registers, write plans, totality and round trip."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols.modbus_led import (
    DEFAULT_PROFILE,
    MAX_WRITE_REGISTERS,
    PROFILES,
    Command,
    DisplayedContent,
    DisplayedRow,
    ModbusLedEncodeError,
    ModbusLedError,
    RegisterProfile,
    apply_writes,
    decode_registers,
    encode_brightness,
    encode_command,
    encode_content,
    shown_text,
)

GBK = DEFAULT_PROFILE
UTF16 = PROFILES["wide-utf16"]
TEXT_BYTE_SWAPPED = dataclasses.replace(
    GBK, name="gbk-swapped", text_byte_order="little", word_order="little"
)
ALL_PROFILES = [GBK, UTF16, TEXT_BYTE_SWAPPED, dataclasses.replace(GBK, name="ascii", text_encoding="ascii")]


def image_after(profile: RegisterProfile, blocks: object) -> list[int]:
    registers = [0] * profile.span
    apply_writes(registers, blocks)  # type: ignore[arg-type]
    return registers


def test_default_profile_registers_for_one_chinese_row() -> None:
    rows = [DisplayedRow(rank=1, name="张三", points=-2)]
    registers = image_after(GBK, encode_content(GBK, rows, title="积分榜", version=0x00010002, dwell_s=7))
    assert registers[40:43] == [0xD5C5, 0xC8FD, 0]  # 张 = D5 C5, 三 = C8 FD (GBK), big byte order
    assert registers[200:202] == [0xFFFF, 0xFFFE]  # int32 −2, high word first
    assert registers[32] == 1
    assert registers[8:11] == [0xBBFD, 0xB7D6, 0xB0F1]  # 积分榜
    assert registers[3:8] == [1, 7, 1, 0x0001, 0x0002]  # pages, dwell, row count, version hi, lo


def test_other_profile_uses_utf16_and_low_word_first() -> None:
    rows = [DisplayedRow(rank=1, name="张三", points=70000)]
    registers = image_after(UTF16, encode_content(UTF16, rows, title="T", version=70000))
    assert registers[1100:1103] == [0x5F20, 0x4E09, 0]
    assert registers[300:302] == [70000 & 0xFFFF, 70000 >> 16]
    assert registers[20] == 70000 % 65536


def test_write_plan_ends_with_the_version_and_never_touches_control_or_status() -> None:
    rows = [DisplayedRow(rank=i, name=f"成员{i}", points=i) for i in range(1, 9)]
    for profile in (GBK, UTF16):
        plan = encode_content(profile, rows, title="积分", version=5, brightness=9)
        assert plan[-1].address == profile.version
        assert all(len(block.registers) <= MAX_WRITE_REGISTERS for block in plan)
        written = {b.address + i for b in plan for i in range(len(b.registers))}
        assert profile.control not in written
        assert profile.status not in written
        assert profile.version not in {b.address for b in plan[:-1]}


def test_fewer_rows_clear_the_stale_slots() -> None:
    many = [DisplayedRow(rank=i, name="王五", points=9) for i in range(8)]
    registers = image_after(GBK, encode_content(GBK, many, title="", version=1))
    apply_writes(registers, encode_content(GBK, many[:2], title="", version=2))
    assert registers[40 + 2 * 16 : 200] == [0] * (200 - 72)
    assert decode_registers(GBK, registers).rows == tuple(many[:2])


def test_long_gbk_name_is_cut_on_a_character_boundary() -> None:
    name = "张" * 15 + "AB" + "三" * 3  # 30 + 2 bytes fit exactly; the hanzi after do not
    assert shown_text(GBK, name, 32) == "张" * 15 + "AB"
    odd = "A" + "张" * 16  # 1 + 2·15 = 31 bytes; the 16th hanzi would split
    shown = decode_registers(
        GBK,
        image_after(
            GBK, encode_content(GBK, [DisplayedRow(rank=1, name=odd, points=0)], title="", version=1)
        ),
    )
    assert shown.rows[0].name == "A" + "张" * 15
    assert "\ufffd" not in shown.rows[0].name


def test_unencodable_characters_become_question_marks() -> None:
    assert shown_text(GBK, "A😀B", 32) == "A?B"
    assert shown_text(dataclasses.replace(GBK, text_encoding="ascii"), "李A", 32) == "?A"


def test_bad_arguments_are_local_errors() -> None:
    with pytest.raises(ModbusLedEncodeError):
        encode_brightness(GBK, 16)
    with pytest.raises(ModbusLedEncodeError):
        encode_content(GBK, [], title="", version=1, brightness=-1)
    assert encode_command(GBK, Command.CLEAR).registers == (2,)


def test_short_image_is_a_remote_error() -> None:
    with pytest.raises(ModbusLedError):
        decode_registers(GBK, [0] * (GBK.span - 1))
    with pytest.raises(ModbusLedError):
        decode_registers(GBK, [70000] * GBK.span)


def test_zero_image_is_a_blank_display() -> None:
    assert decode_registers(GBK, [0] * GBK.span) == DisplayedContent(
        title="", rows=(), brightness=0, page_count=0, dwell_s=0, version=0
    )


@given(
    st.sampled_from(ALL_PROFILES),
    st.lists(st.integers(min_value=-5, max_value=70000), min_size=0, max_size=1300),
)
def test_decode_is_total(profile: RegisterProfile, registers: list[int]) -> None:
    try:
        shown = decode_registers(profile, registers)
    except ModbusLedError:
        return
    assert len(shown.rows) <= profile.rows
    assert 0 <= shown.brightness <= 15


rows_strategy = st.lists(
    st.builds(
        DisplayedRow,
        rank=st.integers(min_value=-3, max_value=70000),
        name=st.text(max_size=40),
        points=st.integers(min_value=-(2**40), max_value=2**40),
    ),
    max_size=10,
)


@given(
    st.sampled_from(ALL_PROFILES),
    rows_strategy,
    st.text(max_size=50),
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=0, max_value=15),
)
def test_round_trip_shows_what_fits(
    profile: RegisterProfile, rows: list[DisplayedRow], title: str, version: int, brightness: int
) -> None:
    plan = encode_content(profile, rows, title=title, version=version, dwell_s=3, brightness=brightness)
    shown = decode_registers(profile, image_after(profile, plan))
    capacity = 2 * profile.text_registers
    expected = tuple(
        DisplayedRow(
            rank=min(max(r.rank, 0), 0xFFFF),
            name=shown_text(profile, r.name, capacity),
            points=max(-(2**31), min(2**31 - 1, r.points)),
        )
        for r in rows[: profile.rows]
    )
    assert shown.rows == expected
    assert shown.title == shown_text(profile, title, 2 * profile.title_registers)
    assert shown.version == version % profile.version_modulus
    assert (shown.brightness, shown.dwell_s) == (brightness, 3)


@given(
    st.lists(st.text(alphabet=st.characters(codec="gb2312", min_codepoint=0x4E00), max_size=16), max_size=8)
)
def test_gb2312_names_that_fit_round_trip_exactly(names: list[str]) -> None:
    rows = [DisplayedRow(rank=i + 1, name=n, points=i * 10) for i, n in enumerate(names)]
    shown = decode_registers(GBK, image_after(GBK, encode_content(GBK, rows, title="积分", version=3)))
    assert shown.rows == tuple(rows)
