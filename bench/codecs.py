"""Codec decode rates against the cheapest scan of the same bytes.

Each codec decodes a stream of realistic frames fed in 4 KiB reads (one read is never one frame).
The limit for the binary and text framers is a ``bytes.find`` loop that only locates frame ends in
the same stream (what any framer must at least do); for sync batches it is ``json.loads`` of the same
payloads (what any JSON decoder must at least do).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Final, Protocol

from bench.measure import Sizes, Stopwatch, rate, repeat_sync
from bench.recorder import Recorder
from edge_agent.ids import uuid7_str
from firmware_protocols import alpha_sign, sync, zkteco
from firmware_protocols.errors import NEED_DATA
from firmware_protocols.isapi.multipart import MultipartDecoder, encode_part

NAME: Final = "codecs"
TITLE: Final = "decode rates of our codecs vs the cheapest scan of the same bytes"
SUMMARY: Final = (
    "ZK 4370 TCP frames (each carrying eight 40-byte attendance records), Alpha WriteText packets "
    "with checksums, sync event batches of 100 punches, and ISAPI alertStream multipart parts "
    "(JSON event bodies): decoded from one stream fed in 4 KiB reads. Limits: a `bytes.find` loop "
    "over the same stream, and `json.loads` of the same batch payloads."
)
READ_SIZE: Final = 4096


class _Decoder(Protocol):
    def feed(self, data: bytes) -> None: ...
    def next_message(self) -> object: ...


def decode_stream(decoder: _Decoder, stream: bytes) -> int:
    """Feed ``stream`` in READ_SIZE reads, draining after each; return how many messages came out."""
    count = 0
    for at in range(0, len(stream), READ_SIZE):
        decoder.feed(stream[at : at + READ_SIZE])
        while decoder.next_message() is not NEED_DATA:
            count += 1
    return count


def find_count(stream: bytes, marker: bytes) -> int:
    """How many times ``marker`` occurs: the scan every framer of this stream must at least do."""
    count, at = 0, stream.find(marker)
    while at >= 0:
        count += 1
        at = stream.find(marker, at + len(marker))
    return count


def zk_stream(frames: int) -> bytes:
    """TCP frames of ATTLOG data replies (8 records of 40 bytes each)."""
    when = dt.datetime(2026, 3, 2, 8, 55, 0)  # noqa: DTZ001 - ZK device time is naive local time
    records = b"".join(
        zkteco.encode_attendance40(
            zkteco.AttendanceRecord(user_sn=i, user_id=str(1000 + i), verify=1, state=0, time=when)
        )
        for i in range(8)
    )
    packets = (
        zkteco.Packet(command=1500, session_id=0x1234, reply_id=i, data=records) for i in range(frames)
    )
    return b"".join(zkteco.encode_tcp(p) for p in packets)


def alpha_stream(packets: int) -> bytes:
    """WriteText packets of a ranking line each, with checksums."""
    out = bytearray()
    for i in range(packets):
        text = f"{i % 100 + 1:>3}. Member {i:05d}    {1000 - i % 1000:>5} pts".encode()
        command = alpha_sign.WriteText(label="A", message=text)
        out += alpha_sign.encode_packet(alpha_sign.Packet(commands=(command,)))
    return bytes(out)


def sync_batches(batches: int, per_batch: int = 100) -> list[bytes]:
    """Encoded ``EventBatch`` payloads of ``per_batch`` punches each (the agent's batch size)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return [
        sync.encode(sync.EventBatch(batch_id=uuid7_str(), events=tuple(punches(per_batch, now))))
        for _ in range(batches)
    ]


def punches(count: int, now: dt.datetime, *, first_seq: int = 1) -> Iterable[sync.Event]:
    """``count`` punch events as the agent sends them (UUIDv7 ids, UTC times)."""
    for i in range(count):
        pin = str(1 + i % 1000)
        data = sync.Punch(
            pin=pin,
            verify_mode=sync.VerifyMode.FINGERPRINT,
            verify_code="1",
            state=sync.PunchState.CHECK_IN,
            state_code="0",
            dedup_key=f"CKUX0001|{pin}|{now.isoformat()}|0",
        ).to_data()
        yield sync.Event(
            id=uuid7_str(),
            seq=first_seq + i,
            kind="punch",
            device="zk-lobby",
            occurred_at=now,
            device_time=now.strftime("%Y-%m-%d %H:%M:%S"),
            received_at=now,
            data=data,
        )


BOUNDARY: Final = b"MIME_boundary"


def isapi_stream(parts: int) -> bytes:
    """alertStream parts: an AccessControllerEvent JSON body each (no pictures)."""
    out = bytearray()
    for i in range(parts):
        body = {
            "ipAddress": "192.168.1.64",
            "portNo": 80,
            "protocol": "HTTP",
            "macAddress": "44:19:b6:00:00:01",
            "channelID": 1,
            "dateTime": "2026-03-02T08:55:00+08:00",
            "activePostCount": 1,
            "eventType": "AccessControllerEvent",
            "eventState": "active",
            "eventDescription": "Access Controller Event",
            "AccessControllerEvent": {
                "deviceName": "Access Controller",
                "majorEventType": 5,
                "subEventType": 75,
                "employeeNoString": str(1000 + i % 1000),
                "serialNo": i + 1,
                "currentVerifyMode": "cardOrFaceOrFp",
                "attendanceStatus": "checkIn",
                "mask": "no",
            },
        }
        out += encode_part(BOUNDARY, "application/json", json.dumps(body).encode())
    return bytes(out)


def _timed(work: Callable[[], int], expected: int) -> Callable[[], float]:
    def once() -> float:
        with Stopwatch() as watch:
            got = work()
        if got != expected:
            raise AssertionError(f"decoded {got} messages, expected {expected}")
        return rate(got, watch.seconds)

    return once


WHY: Final = {
    "zk-find": "Locating each frame start is the least any framer of this stream does.",
    "zk": "Per frame the decoder slices the buffer, checks the length, computes the 16-bit checksum "
    "in Python and builds a frozen Packet; `find` does its scan in C. A terminal's whole log "
    "(tens of thousands of records, eight per frame here) still decodes in well under a second.",
    "alpha-find": "Locating each packet end.",
    "alpha": "Each packet is split into groups, checksummed in Python and parsed into a WriteText; a "
    "sign receives a few packets a minute, so this is far beyond need.",
    "sync-json": "Parsing the JSON alone.",
    "sync": "On top of the JSON parse every field of every event is validated (UUIDv7 ids, aware "
    "timestamps, unknown fields refused) and frozen dataclasses are built. Multiply by 100 for "
    "events/s: this is the cloud's decode cost per batch.",
    "isapi-find": "Locating each part delimiter.",
    "isapi": "A state-machine step per header block and body, header parsing and a frozen Part per "
    "part; a face terminal sends at most a few events a second.",
}


def run(sizes: Sizes, record: Recorder) -> None:
    """Measure each codec right after its limit."""
    n = sizes.pick(20_000, 2_000)
    reps = sizes.repeats
    zk = zk_stream(n)
    alpha = alpha_stream(n)
    batches = sync_batches(max(n // 200, 10))
    isapi = isapi_stream(n)
    marker = b"\r\n--" + BOUNDARY
    cases = [
        (
            "zk",
            "ZK TCP: TcpDecoder (frame + checksum)",
            "ZK TCP: bytes.find of the magic",
            "frames/s",
            n,
            lambda: decode_stream(zkteco.TcpDecoder(), zk),
            lambda: find_count(zk, zkteco.TCP_MAGIC),
        ),
        (
            "alpha",
            "Alpha: Decoder (frame + checksum + command)",
            "Alpha: bytes.find of EOT",
            "packets/s",
            n,
            lambda: decode_stream(alpha_sign.Decoder(), alpha),
            lambda: find_count(alpha, b"\x04"),
        ),
        (
            "sync",
            "sync: decode_batch of a 100-event batch",
            "sync: json.loads of a 100-event batch",
            "batches/s",
            len(batches),
            lambda: len([sync.decode_batch(b) for b in batches]),
            lambda: len([json.loads(b) for b in batches]),
        ),
        (
            "isapi",
            "ISAPI: MultipartDecoder (headers + body)",
            "ISAPI: bytes.find of the delimiter",
            "parts/s",
            n,
            lambda: decode_stream(MultipartDecoder(BOUNDARY), isapi),
            lambda: find_count(isapi, marker) + 1,
        ),
    ]
    for key, label, limit_label, unit, expected, ours, limit in cases:
        limit_key = "sync-json" if key == "sync" else f"{key}-find"
        record.limit(limit_key, limit_label, unit, repeat_sync(reps, _timed(limit, expected)), WHY[limit_key])
        samples = repeat_sync(reps, _timed(ours, expected))
        record.ours(key, label, unit, samples, against=limit_key, why=WHY[key])
