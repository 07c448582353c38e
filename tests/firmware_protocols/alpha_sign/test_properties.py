"""Hypothesis properties: totality on random bytes, round-trip, and any split of the stream."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocols.alpha_sign import (
    AlphaProtocolError,
    Command,
    Decoder,
    MemoryConfiguration,
    MemoryEntry,
    Packet,
    RawCommand,
    ReadSmallDots,
    ReadSpecial,
    ReadString,
    ReadText,
    SetDate,
    SetDayOfWeek,
    SetTime,
    WriteSmallDots,
    WriteSpecialRaw,
    WriteString,
    WriteText,
    encode_packet,
)
from firmware_protocols.errors import NEED_DATA

# A label or code: any printable ASCII character.
char = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
# Data bytes: anything but the framing bytes SOH/STX/ETX/EOT.
data = st.binary(max_size=40).map(lambda b: bytes(x for x in b if x not in (1, 2, 3, 4)))
text_message = data.filter(lambda b: not b.startswith(b"\x1b"))
digits = st.integers(0, 99)

write_text = st.one_of(
    st.builds(WriteText, label=char, position=char, mode=char.filter(lambda c: c != "n"), message=data),
    st.builds(WriteText, label=char, position=char, mode=st.just("n"), special=char, message=data),
    st.builds(WriteText, label=char, position=st.none(), mode=st.none(), message=text_message),
)
memory_entry = st.builds(
    MemoryEntry,
    label=char,
    file_type=st.sampled_from("ABD"),
    locked=st.sampled_from("UL"),
    size=st.integers(0, 0xFFFF),
    times=st.text(char, min_size=4, max_size=4),
)
special_codes = char.filter(lambda c: c not in " ;&$")
commands: st.SearchStrategy[Command] = st.one_of(
    write_text,
    st.builds(ReadText, label=char),
    st.builds(WriteString, label=char, text=data),
    st.builds(ReadString, label=char),
    st.builds(MemoryConfiguration, entries=st.lists(memory_entry, max_size=4).map(tuple)),
    st.builds(SetTime, hour=digits, minute=digits),
    st.builds(SetDate, month=digits, day=digits, year=digits),
    st.builds(SetDayOfWeek, day=st.integers(0, 9)),
    st.builds(WriteSpecialRaw, code=special_codes, data=data),
    st.builds(ReadSpecial, code=char),
    st.builds(
        WriteSmallDots,
        label=char,
        height=st.integers(0, 255),
        width=st.integers(0, 255),
        rows=st.lists(st.text("012345678", max_size=12), max_size=6).map(tuple),
    ),
    st.builds(ReadSmallDots, label=char),
    st.builds(RawCommand, code=st.sampled_from("KLMNOT"), data=data),
)
packets = st.builds(
    Packet,
    commands=st.lists(commands, min_size=1, max_size=3).map(tuple),
    type_code=st.sampled_from("Z^!012?"),
    address=st.text("0123456789ABCDEF?", min_size=2, max_size=2),
    checksum=st.booleans(),
)


def decode_all(chunks: list[bytes]) -> list[Packet]:
    decoder = Decoder()
    out: list[Packet] = []
    for chunk in chunks:
        decoder.feed(chunk)
        while (message := decoder.next_message()) is not NEED_DATA:
            assert isinstance(message, Packet)
            out.append(message)
    return out


def split(wire: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(wire) + 1) for c in cuts})
    return [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]


@settings(deadline=None)  # a loaded CI box must not turn slowness into failures
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_decoder_is_total_on_random_bytes(chunks: list[bytes]) -> None:
    decoder = Decoder(max_frame=128)
    for chunk in chunks:
        decoder.feed(chunk)
        for _ in range(len(chunk) + 2):
            try:
                if decoder.next_message() is NEED_DATA:
                    break
            except AlphaProtocolError:
                continue


@settings(deadline=None)  # a loaded CI box must not turn slowness into failures
@given(packets)
def test_round_trip(packet: Packet) -> None:
    assert decode_all([encode_packet(packet)]) == [packet]


@settings(deadline=None)  # a loaded CI box must not turn slowness into failures
@given(st.lists(packets, min_size=1, max_size=3), st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_of_the_stream_gives_the_same_packets(batch: list[Packet], cuts: list[int]) -> None:
    wire = b"".join(encode_packet(p) for p in batch)
    assert decode_all(split(wire, cuts)) == batch
