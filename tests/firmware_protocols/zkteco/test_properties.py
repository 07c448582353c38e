"""Hypothesis properties: every decoder is total, every encoder round-trips, TCP framing survives splits."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import NEED_DATA
from firmware_protocols.zkteco import (
    AttendanceRecord,
    FreeSizes,
    Packet,
    ReadBufferRequest,
    RealtimeAttendance,
    TcpDecoder,
    UserRecord,
    ZkProtocolError,
    decode_attendance,
    decode_buffer_info,
    decode_chunk_request,
    decode_datagram,
    decode_free_sizes,
    decode_option,
    decode_prepare_data,
    decode_read_buffer,
    decode_realtime,
    decode_time,
    decode_time6,
    decode_user28,
    decode_user72,
    encode_attendance40,
    encode_buffer_info,
    encode_chunk_request,
    encode_free_sizes,
    encode_option,
    encode_packet,
    encode_prepare_data,
    encode_read_buffer,
    encode_realtime,
    encode_tcp,
    encode_time,
    encode_time6,
    encode_user28,
    encode_user72,
    split_blob,
)

u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
i32 = st.integers(-(2**31), 2**31 - 1)
times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2133, 1, 1))  # noqa: DTZ001
packets = st.builds(
    Packet, command=u16, session_id=u16, reply_id=u16, data=st.binary(max_size=300), checksum_ok=st.just(True)
)
pins = st.text(alphabet="0123456789ABCDEFGHIJ", max_size=24)


def _text(max_bytes: int) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", blacklist_characters="\0")
    return st.text(chars, max_size=max_bytes // 4)


DECODERS: list[Callable[[bytes], object]] = [
    decode_datagram,
    decode_attendance,
    decode_realtime,
    decode_user72,
    decode_user28,
    decode_free_sizes,
    decode_read_buffer,
    decode_chunk_request,
    decode_buffer_info,
    decode_prepare_data,
    decode_option,
    decode_time6,
    lambda raw: split_blob(raw, 40),
    lambda raw: decode_user72(raw, "gbk"),
]


@given(st.binary(max_size=120), st.sampled_from(DECODERS))
def test_decoders_are_total(raw: bytes, decoder: Callable[[bytes], object]) -> None:
    with contextlib.suppress(ZkProtocolError):
        decoder(raw)


@given(st.sampled_from([8, 16, 28, 32, 36, 40, 52, 72, 80, 92]), st.data())
def test_decoders_are_total_at_exact_sizes(size: int, data: st.DataObject) -> None:
    raw = data.draw(st.binary(min_size=size, max_size=size))
    for decoder in DECODERS:
        with contextlib.suppress(ZkProtocolError):
            decoder(raw)


@given(u32)
def test_decode_time_is_total(code: int) -> None:
    with contextlib.suppress(ZkProtocolError):
        assert encode_time(decode_time(code)) == code


@given(st.binary(max_size=400), st.integers(1, 64))
def test_tcp_decoder_is_total(raw: bytes, step: int) -> None:
    decoder = TcpDecoder()
    for i in range(0, len(raw), step):
        decoder.feed(raw[i : i + step])
        while decoder.next_message() is not NEED_DATA:
            pass


@given(packets)
def test_packet_round_trip(packet: Packet) -> None:
    assert decode_datagram(encode_packet(packet)) == packet


@given(st.lists(packets, min_size=1, max_size=5), st.binary(max_size=40), st.data())
def test_tcp_decoder_on_any_split_with_garbage_in_front(
    frames: list[Packet], garbage: bytes, data: st.DataObject
) -> None:
    garbage = garbage.replace(b"\x50\x50", b"\x51")  # garbage may not itself contain a frame start
    stream = garbage + b"".join(encode_tcp(p) for p in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    decoder = TcpDecoder()
    got: list[Packet] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        decoder.feed(stream[start:end])
        while (message := decoder.next_message()) is not NEED_DATA:
            assert isinstance(message, Packet)
            got.append(message)
    assert got == frames


@given(times)
def test_time_round_trips(when: dt.datetime) -> None:
    when = when.replace(microsecond=0)
    assert decode_time(encode_time(when)) == when
    if when.year <= 2255:
        assert decode_time6(encode_time6(when)) == when


@given(
    st.builds(
        UserRecord,
        uid=u16,
        user_id=pins,
        name=_text(24),
        privilege=st.sampled_from([0, 14]),
        password=_text(8),
        card=u32,
        group_id=_text(7),
    ),
    st.sampled_from(["utf-8", "gbk"]),
)
def test_user72_round_trip(user: UserRecord, encoding: str) -> None:
    try:
        raw = encode_user72(user, encoding)
    except ZkProtocolError:
        return  # text not representable in this encoding or too long
    assert len(raw) == 72
    assert decode_user72(raw, encoding) == user


@given(u16, st.integers(0, 0xFFFFFFFF), st.integers(0, 255), u32)
def test_user28_round_trip(uid: int, pin: int, group: int, card: int) -> None:
    user = UserRecord(uid=uid, user_id=str(pin), name="Ann", card=card, group_id=str(group), password="12")
    assert decode_user28(encode_user28(user)) == user


@given(
    st.builds(
        AttendanceRecord,
        user_sn=u16,
        user_id=pins,
        verify=st.integers(0, 255),
        state=st.integers(0, 255),
        time=times.map(lambda t: t.replace(microsecond=0)),
    )
)
def test_attendance_round_trip(record: AttendanceRecord) -> None:
    assert decode_attendance(encode_attendance40(record)) == record


@given(
    st.builds(
        RealtimeAttendance,
        user_id=pins,
        verify=st.integers(0, 255),
        state=st.integers(0, 255),
        time=times.filter(lambda t: t.year <= 2255).map(lambda t: t.replace(microsecond=0)),
        extra=st.sampled_from([b"", b"\1\2\3\4"]),
    )
)
def test_realtime_round_trip(event: RealtimeAttendance) -> None:
    assert decode_realtime(encode_realtime(event)) == event


@given(st.builds(FreeSizes, **{name: i32 for name in FreeSizes.__dataclass_fields__}))
def test_free_sizes_round_trip(sizes: FreeSizes) -> None:
    assert decode_free_sizes(encode_free_sizes(sizes)) == sizes


@given(st.integers(-(2**15), 2**15 - 1), i32, i32)
def test_buffer_payloads_round_trip(command: int, fct: int, ext: int) -> None:
    request = ReadBufferRequest(command=command, fct=fct, ext=ext)
    assert decode_read_buffer(encode_read_buffer(request)) == request


@given(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_chunk_payloads_round_trip(start: int, size: int) -> None:
    assert decode_chunk_request(encode_chunk_request(start, size)) == (start, size)
    assert decode_prepare_data(encode_prepare_data(size)) == size
    assert decode_buffer_info(encode_buffer_info(size)) == size


@given(st.text(alphabet="~abcXYZ019", min_size=1, max_size=20), st.text(alphabet="abc=. 019", max_size=30))
def test_option_round_trip(name: str, value: str) -> None:
    assert decode_option(encode_option(name, value)) == (name, value)
