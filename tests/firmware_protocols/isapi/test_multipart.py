"""Multipart framing: tables of exact bytes, both boundary spellings, any split, garbage, pictures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocols.errors import NEED_DATA
from firmware_protocols.isapi import multipart
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import PartSkipped, PictureDropped

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


def drain(decoder: multipart.MultipartDecoder) -> list[multipart.MultipartMessage]:
    out: list[multipart.MultipartMessage] = []
    while (message := decoder.next_message()) is not NEED_DATA:
        out.append(message)
    return out


def decode_split(boundary: bytes, data: bytes, cuts: list[int]) -> list[multipart.MultipartMessage]:
    decoder = multipart.MultipartDecoder(boundary)
    out: list[multipart.MultipartMessage] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        decoder.feed(data[start:cut])
        out += drain(decoder)
        start = cut
    return out


@pytest.mark.parametrize(
    ("header", "boundary"),
    [
        ("multipart/mixed; boundary=boundary", b"boundary"),
        ("multipart/mixed; boundary=MIME_boundary", b"MIME_boundary"),
        ('multipart/mixed; boundary="MIME_boundary"', b"MIME_boundary"),
        ("Multipart/Form-Data;BOUNDARY=----abc123", b"----abc123"),
    ],
)
def test_boundary_is_read_from_the_content_type(header: str, boundary: bytes) -> None:
    assert multipart.boundary_from_content_type(header) == boundary


@pytest.mark.parametrize("header", ["multipart/mixed", "multipart/mixed; boundary=", "text/plain; charset=x"])
def test_missing_boundary_is_a_protocol_error(header: str) -> None:
    with pytest.raises(IsapiProtocolError):
        multipart.boundary_from_content_type(header)


@pytest.mark.parametrize("boundary", [b"boundary", b"MIME_boundary"])
def test_length_and_delimited_parts_exact_bytes(boundary: bytes) -> None:
    b = boundary
    data = (
        b"--" + b + b'\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}\r\n'
        b"--" + b + b"\r\nContent-Type: application/xml\r\n\r\n<x>1</x>\r\n"
        b"--" + b + b"--\r\n"
    )
    parts = decode_split(b, data, [])
    assert parts == [
        multipart.Part(
            headers=(("content-type", "application/json"), ("content-length", "7")), body=b'{"a":1}'
        ),
        multipart.Part(headers=(("content-type", "application/xml"),), body=b"<x>1</x>"),
    ]


@pytest.mark.parametrize("with_length", [True, False])
def test_pictures_are_dropped_with_their_size_and_never_returned(with_length: bool) -> None:
    b = b"MIME_boundary"
    data = multipart.encode_part(b, "image/jpeg", JPEG, with_length=with_length)
    data += multipart.encode_part(b, "application/json", b"{}")
    messages = decode_split(b, data, [3, 100, 5000])
    assert messages[0] == PictureDropped(content_type="image/jpeg", size=len(JPEG))
    assert isinstance(messages[1], multipart.Part)
    assert not any(JPEG[:4] in repr(m).encode("latin-1") for m in messages)


def test_garbage_between_parts_is_skipped_and_counted() -> None:
    b = b"boundary"
    data = b"HTTP junk\r\n" + multipart.encode_part(b, "application/json", b"{}") + b"xx\r\n"
    data += multipart.encode_part(b, "application/json", b"[]")
    messages = decode_split(b, data, [])
    assert messages == [
        PartSkipped(reason="garbage", size=8),
        multipart.Part(headers=(("content-type", "application/json"), ("content-length", "2")), body=b"{}"),
        PartSkipped(reason="garbage", size=2),
        multipart.Part(headers=(("content-type", "application/json"), ("content-length", "2")), body=b"[]"),
    ]


def test_oversize_text_part_is_skipped_and_the_stream_resyncs() -> None:
    b = b"boundary"
    decoder = multipart.MultipartDecoder(b, max_part=1000, max_buffer=1000 + multipart.MAX_HEADERS)
    big = multipart.encode_part(b, "application/json", b"x" * 5000, with_length=False)
    decoder.feed(big[:3000])
    assert drain(decoder) == []
    decoder.feed(big[3000:] + multipart.encode_part(b, "application/json", b"{}"))
    messages = drain(decoder)
    assert messages[0] == PartSkipped(reason="oversize application/json", size=5000)
    assert isinstance(messages[1], multipart.Part)


def test_undrained_buffer_overflow_is_refused() -> None:
    decoder = multipart.MultipartDecoder(b"b", max_part=10, max_buffer=10 + multipart.MAX_HEADERS)
    decoder.feed(b"x" * (20 + multipart.MAX_HEADERS))
    with pytest.raises(IsapiProtocolError):
        decoder.feed(b"x")


@st.composite
def stream_and_cuts(draw: st.DrawFn) -> tuple[bytes, bytes, list[tuple[str, bytes]], list[int]]:
    boundary = draw(st.sampled_from([b"boundary", b"MIME_boundary"]))
    bodies = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["application/json", "application/xml"]), st.binary(max_size=300)
            ).filter(lambda p: b"--" + boundary not in p[1] and not p[1].endswith(b"\r")),
            max_size=5,
        )
    )
    lengths = draw(st.lists(st.booleans(), min_size=len(bodies), max_size=len(bodies)))
    data = b"".join(
        multipart.encode_part(boundary, ct, body, with_length=n)
        for (ct, body), n in zip(bodies, lengths, strict=True)
    )
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=8))
    return boundary, data, bodies, cuts


@given(stream_and_cuts())
@settings(max_examples=200, deadline=None)
def test_any_split_gives_the_same_parts(
    case: tuple[bytes, bytes, list[tuple[str, bytes]], list[int]],
) -> None:
    boundary, data, bodies, cuts = case
    # a trailing close delimiter lets the last delimited body end
    parts = decode_split(boundary, data + multipart.encode_close(boundary), cuts)
    assert [(p.content_type, p.body) for p in parts if isinstance(p, multipart.Part)] == bodies
    assert all(isinstance(p, multipart.Part) for p in parts)


@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=6))
@settings(max_examples=300, deadline=None)
def test_random_bytes_are_total(data: bytes, cuts: list[int]) -> None:
    for boundary in (b"boundary", b"MIME_boundary", b"b"):
        decoder = multipart.MultipartDecoder(boundary, max_part=200, max_buffer=200 + multipart.MAX_HEADERS)
        start = 0
        for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
            decoder.feed(data[start:cut])
            drain(decoder)
            start = cut


TOKENS = [
    b"--boundary",
    b"--boundary--",
    b"\r\n",
    b"\n",
    b"Content-Length: 5",
    b"Content-Length: 99999999",
    b"Content-Type: image/jpeg",
    b"Content-Type: application/json",
    b"\r\n\r\n",
    b'{"a":1}',
    b"\xff\xd8",
]


@given(st.lists(st.sampled_from(TOKENS) | st.binary(max_size=12), max_size=40), st.lists(st.integers(0, 400)))
@settings(max_examples=300, deadline=None)
def test_multipart_shaped_noise_is_total(chunks: list[bytes], cuts: list[int]) -> None:
    data = b"".join(chunks)
    decoder = multipart.MultipartDecoder(b"boundary", max_part=64, max_buffer=64 + multipart.MAX_HEADERS)
    start = 0
    for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
        decoder.feed(data[start:cut])
        for message in drain(decoder):
            assert isinstance(message, multipart.Part | PictureDropped | PartSkipped)
        start = cut
