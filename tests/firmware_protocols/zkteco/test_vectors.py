"""Table tests with the captured vectors of PROTOCOLS.md §2.1–2.2."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from firmware_protocols import NEED_DATA
from firmware_protocols.zkteco import (
    AttendanceRecord,
    Command,
    EventFlag,
    Packet,
    RealtimeAttendance,
    TcpDecoder,
    ZkRemoteError,
    decode_attendance,
    decode_realtime,
    decode_time,
    encode_attendance40,
    encode_packet,
    encode_realtime,
    encode_tcp,
    encode_time,
    in_cksum,
    make_commkey,
)

REALTIME_PIN = b"999111333".ljust(24, b"\0")
REALTIME_CAPTURE = (
    bytes.fromhex("5050827d28000000f401ac1201000000") + REALTIME_PIN + bytes.fromhex("0100120619112905")
)


def _unsigned(command: int, session: int, reply: int, data: bytes) -> bytes:
    return struct.pack("<4H", command, 0, session, reply) + data


@pytest.mark.parametrize(
    ("packet", "checksum"),
    [
        (_unsigned(11, 0x8DF3, 3, b"ZKFaceVersion\0"), 0x175A),
        (_unsigned(2000, 0x8DF3, 10, b"\x09"), 0x6A29),
        (_unsigned(500, 0x100, 0, b"\x64"), 0xFCA7),
        (REALTIME_CAPTURE[8:10] + b"\0\0" + REALTIME_CAPTURE[12:], 0x12AC),
    ],
    ids=["options-rrq", "ack-odd-byte", "realtime-short", "realtime-attlog"],
)
def test_in_cksum_matches_device_captures(packet: bytes, checksum: int) -> None:
    assert in_cksum(packet) == checksum


def test_first_bytes_pyzk_sends_are_reproduced() -> None:
    connect = Packet(command=Command.CONNECT, session_id=0, reply_id=0)
    assert encode_tcp(connect) == bytes.fromhex("5050827d08000000e80317fc00000000")
    assert encode_packet(connect) == bytes.fromhex("e80317fc00000000")


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (dt.datetime(2024, 5, 6, 8, 59, 0), 0x2EA4DFD4),  # noqa: DTZ001 - device local time
        (dt.datetime(2018, 6, 25, 17, 50, 35), 0x2368B36B),  # noqa: DTZ001
        (dt.datetime(2000, 1, 1, 0, 0, 0), 0),  # noqa: DTZ001
    ],
)
def test_time_code_both_directions(when: dt.datetime, code: int) -> None:
    assert encode_time(when) == code
    assert decode_time(code) == when


def test_realtime_capture_decodes() -> None:
    decoder = TcpDecoder()
    decoder.feed(REALTIME_CAPTURE)
    packet = decoder.next_message()
    assert packet == Packet(
        command=Command.REG_EVENT, session_id=EventFlag.ATTLOG, reply_id=0, data=REALTIME_CAPTURE[16:]
    )
    assert decoder.next_message() is NEED_DATA
    event = decode_realtime(REALTIME_CAPTURE[16:])
    assert event == RealtimeAttendance(
        user_id="999111333",
        verify=1,
        state=0,
        time=dt.datetime(2018, 6, 25, 17, 41, 5),  # noqa: DTZ001
    )
    assert encode_tcp(Packet(command=500, session_id=1, data=encode_realtime(event))) == REALTIME_CAPTURE


def test_bad_checksum_is_reported_not_fatal() -> None:
    frame = bytearray(encode_tcp(Packet(command=Command.ACK_OK, session_id=7, reply_id=3, data=b"x")))
    frame[10] ^= 0xFF
    decoder = TcpDecoder()
    decoder.feed(bytes(frame))
    packet = decoder.next_message()
    assert isinstance(packet, Packet)
    assert packet.checksum_ok is False
    assert packet.data == b"x"


def test_attendance_record_layout() -> None:
    record = AttendanceRecord(
        user_sn=5,
        user_id="1001",
        verify=15,
        state=1,
        time=dt.datetime(2024, 5, 6, 8, 59),  # noqa: DTZ001
    )
    raw = encode_attendance40(record)
    assert len(raw) == 40
    assert raw[27:31] == struct.pack("<I", 0x2EA4DFD4)
    assert raw[32:] == bytes.fromhex("00000000ff000000")
    assert decode_attendance(raw) == record


def test_commkey_matches_pyzk() -> None:
    from zk.base import make_commkey as pyzk_make_commkey  # the third-party reference

    for key, session in [(12345, 0x8DF3), (0, 1), (999_999, 0xFFFF), (1, 0)]:
        assert make_commkey(key, session, 50) == pyzk_make_commkey(key, session, 50)


def test_tcp_decoder_buffer_is_bounded() -> None:
    decoder = TcpDecoder(max_buffer=64)
    decoder.feed(bytes.fromhex("5050827d") + struct.pack("<I", 100))  # announces more than fits
    with pytest.raises(ZkRemoteError, match="buffer"):
        decoder.feed(bytes(60))
    decoder.feed(encode_tcp(Packet(command=Command.ACK_OK)))  # usable again after the overflow
    assert decoder.next_message() == Packet(command=Command.ACK_OK)


def test_implausible_length_after_magic_is_skipped() -> None:
    decoder = TcpDecoder()
    good = encode_tcp(Packet(command=Command.ACK_OK, reply_id=4))
    decoder.feed(bytes.fromhex("5050827d") + struct.pack("<I", 3) + good)
    assert decoder.next_message() == Packet(command=Command.ACK_OK, reply_id=4)
    assert decoder.skipped_bytes == 8
