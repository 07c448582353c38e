"""Table tests: bytes captured from real third-party clients (shared/PROTOCOLS.md §6) ↔ messages."""

from __future__ import annotations

import pytest

from firmware_protocols.alpha_sign import (
    Decoder,
    MemoryConfiguration,
    MemoryEntry,
    Packet,
    ReadText,
    WriteSpecialRaw,
    WriteString,
    WriteText,
    checksum,
    encode_packet,
)
from firmware_protocols.errors import NEED_DATA

SYNC = b"\x00" * 5
HEAD = SYNC + b"\x01Z00"


def decode_one(data: bytes) -> Packet:
    decoder = Decoder()
    decoder.feed(data)
    packet = decoder.next_message()
    assert isinstance(packet, Packet)
    assert decoder.next_message() is NEED_DATA
    return packet


def test_spec_checksum_vector() -> None:
    assert checksum(b"\x02AAHELLO\x03") == b"01FB"


CAPTURED: list[tuple[str, bytes, Packet]] = [
    (
        "pyalphasign Easy.Text.show, no checksum",
        HEAD + b"\x02A0\x1b0aHello\x04",
        Packet(commands=(WriteText(label="0", position="0", mode="a", message=b"Hello"),), checksum=False),
    ),
    (
        "pyalphasign with checksum",
        HEAD + b"\x02AA\x1b bTOP10\x030278\x04",
        Packet(commands=(WriteText(label="A", position=" ", mode="b", message=b"TOP10"),)),
    ),
    (
        "alphasignpy memory configuration",
        HEAD + b"\x02E$AAU0100FFFF\x03031E\x04",
        Packet(
            commands=(
                MemoryConfiguration(
                    entries=(MemoryEntry(label="A", file_type="A", locked="U", size=0x100, times="FFFF"),)
                ),
            )
        ),
    ),
    (
        "alphasignpy text (its FILL position is '&')",
        HEAD + b"\x02AA\x1b&bHello\x03031E\x04",
        Packet(commands=(WriteText(label="A", position="&", mode="b", message=b"Hello"),)),
    ),
    ("alphasignpy read TEXT", HEAD + b"\x02BA\x030088\x04", Packet(commands=(ReadText(label="A"),))),
    (
        "alphasign 0.9 run sequence",
        HEAD + b"\x02E.TUA\x04",
        Packet(commands=(WriteSpecialRaw(code=".", data=b"TUA"),), checksum=False),
    ),
    (
        "alphasign 0.9 text",
        HEAD + b"\x02AA\x1b bHello\x04",
        Packet(commands=(WriteText(label="A", position=" ", mode="b", message=b"Hello"),), checksum=False),
    ),
    (
        "alphasign 0.9 string",
        HEAD + b"\x02G142\x04",
        Packet(commands=(WriteString(label="1", text=b"42"),), checksum=False),
    ),
    (
        "alphasign 0.9 beep",
        HEAD + b"\x02E(20020\x04",
        Packet(commands=(WriteSpecialRaw(code="(", data=b"20020"),), checksum=False),
    ),
]


@pytest.mark.parametrize(("wire", "packet"), [c[1:] for c in CAPTURED], ids=[c[0] for c in CAPTURED])
def test_captured_bytes_decode_and_reencode_exactly(wire: bytes, packet: Packet) -> None:
    assert decode_one(wire) == packet
    assert encode_packet(packet) == wire


def test_alphasign_09_lowercase_hex_memory_configuration_decodes_leniently() -> None:
    strings = b"".join(b"%dAU0064FEFE" % n for n in range(1, 6))
    wire = HEAD + b"\x02E$AAU0040FFFF1BL000a0000" + strings + b"\x04"
    packet = decode_one(wire)
    (config,) = packet.commands
    assert isinstance(config, MemoryConfiguration)
    assert config.entries[:2] == (
        MemoryEntry(label="A", file_type="A", locked="U", size=0x40, times="FFFF"),
        MemoryEntry(label="1", file_type="B", locked="L", size=10, times="0000"),
    )
    assert len(config.entries) == 7
    # We re-encode canonically: upper-case hex.
    assert b"1BL000A0000" in encode_packet(packet)


def test_frames_split_by_the_100ms_pause_after_stx() -> None:
    decoder = Decoder()
    decoder.feed(HEAD + b"\x02")
    assert decoder.next_message() is NEED_DATA
    decoder.feed(b"AA\x1b bTOP10\x030278\x04")
    assert isinstance(decoder.next_message(), Packet)
