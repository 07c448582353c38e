"""The streaming decoder's resync rules, errors and limits."""

from __future__ import annotations

import pytest

from firmware_protocols.alpha_sign import (
    AlphaEncodeError,
    AlphaProtocolError,
    ChecksumError,
    Decoder,
    FrameCutShort,
    FrameTooLong,
    Packet,
    ReadText,
    WriteString,
    WriteText,
    encode_packet,
    encode_response,
)
from firmware_protocols.errors import NEED_DATA, RemoteProtocolError

GOOD = encode_packet(Packet(commands=(WriteString(label="1", text=b"42"),)))


def drain(decoder: Decoder) -> list[Packet | str]:
    """Every packet and error name the decoder yields until NEED_DATA."""
    out: list[Packet | str] = []
    while True:
        try:
            message = decoder.next_message()
        except AlphaProtocolError as exc:
            out.append(type(exc).__name__)
            continue
        if message is NEED_DATA:
            return out
        out.append(message)


def test_garbage_before_a_frame_is_skipped_and_counted_but_nuls_are_sync() -> None:
    decoder = Decoder()
    decoder.feed(b"xyz\x00\x00" + GOOD)
    assert [type(m) for m in drain(decoder)] == [Packet]
    assert decoder.garbage_bytes == 3


def test_bad_checksum_drops_that_frame_and_the_next_one_decodes() -> None:
    bad = GOOD.replace(b"\x03", b"\x03").replace(GOOD[-5:-1], b"0000")
    decoder = Decoder()
    decoder.feed(bad + GOOD)
    out = drain(decoder)
    assert out[0] == "ChecksumError"
    assert isinstance(out[1], Packet)
    assert issubclass(ChecksumError, RemoteProtocolError)


def test_control_the_good_frame_alone_has_no_error() -> None:
    decoder = Decoder()
    decoder.feed(GOOD)
    assert [type(m) for m in drain(decoder)] == [Packet]


def test_a_frame_cut_short_by_a_new_soh_is_dropped() -> None:
    decoder = Decoder()
    decoder.feed(GOOD[:12] + GOOD)
    out = drain(decoder)
    assert out[0] == FrameCutShort.__name__
    assert isinstance(out[1], Packet)


def test_a_frame_without_eot_beyond_max_frame_is_dropped() -> None:
    decoder = Decoder(max_frame=64)
    decoder.feed(b"\x01Z00\x02AA" + b"x" * 100)
    with pytest.raises(FrameTooLong):
        decoder.next_message()
    decoder.feed(GOOD)
    assert isinstance(decoder.next_message(), Packet)


def test_nested_groups_with_mixed_checksums() -> None:
    packet = Packet(
        commands=(WriteString(label="1", text=b"a"), WriteString(label="2", text=b"b")), checksum=False
    )
    wire = encode_packet(packet)
    assert wire.count(b"\x03") == 2  # ETX is mandatory between nested groups
    decoder = Decoder()
    decoder.feed(wire)
    assert decoder.next_message() == packet


def test_response_packet_has_type_0_address_00_and_a_long_preamble() -> None:
    wire = encode_response(WriteText(label="A", position="0", mode="b", message=b"Hi"))
    assert wire.startswith(b"\x00" * 20 + b"\x01000\x02AA\x1b0bHi\x03")
    decoder = Decoder()
    decoder.feed(wire)
    message = decoder.next_message()
    assert isinstance(message, Packet)
    assert (message.type_code, message.address, message.checksum) == ("0", "00", True)


def test_wildcard_address_and_lower_case_checksum_are_accepted() -> None:
    wire = b"\x00\x01Z??\x02BA\x030088\x04"
    decoder = Decoder()
    decoder.feed(wire.replace(b"0088", b"0088".lower()))
    assert decoder.next_message() == Packet(commands=(ReadText(label="A"),), address="??")


@pytest.mark.parametrize(
    "command",
    [
        WriteText(label="AB", message=b""),
        WriteText(label="A", message=b"a\x04b"),
        WriteText(label="A", mode="n", message=b""),
    ],
)
def test_encoder_refuses_what_the_wire_cannot_carry(command: WriteText) -> None:
    with pytest.raises(AlphaEncodeError):
        encode_packet(Packet(commands=(command,)))
