"""``GET /ISAPI/Event/notification/alertStream``: the long-lived ``multipart/mixed`` event stream.

Theory of operation: the response never ends; each part is one notification (see ``multipart`` for
framing, resync and buffer rules, ``notification`` for the bodies). Part kinds by media type:
``application/json`` → access-control event (or heartbeat), ``application/xml`` → heartbeat or camera
alert, ``image/*`` → ``PictureDropped(size)`` without keeping a byte. A part whose body does not parse
becomes ``PartSkipped`` and the stream goes on (one bad part never costs the connection).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from firmware_protocols.errors import NEED_DATA, NeedData
from firmware_protocols.isapi import multipart
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import AcsEventRecord, PartSkipped, StreamMessage
from firmware_protocols.isapi.notification import (
    EventMessage,
    decode_alert_xml,
    decode_event_json,
    encode_event_json,
    encode_heartbeat_xml,
)

PATH: Final = "/ISAPI/Event/notification/alertStream"
BOUNDARY_STYLES: Final = {"boundary": b"boundary", "MIME_boundary": b"MIME_boundary"}

_BODY_DECODERS: Final[dict[str, Callable[[bytes], EventMessage]]] = {
    "application/json": decode_event_json,
    "text/json": decode_event_json,
    "application/xml": decode_alert_xml,
    "text/xml": decode_alert_xml,
}


def decode_part(part: multipart.Part) -> StreamMessage:
    """One complete non-picture part → typed message (``PartSkipped`` when unusable)."""
    decoder = _BODY_DECODERS.get(part.content_type)
    if decoder is None:
        return PartSkipped(reason=f"unexpected {part.content_type}", size=len(part.body))
    try:
        return decoder(part.body)
    except IsapiProtocolError:
        return PartSkipped(reason=f"bad {part.content_type}", size=len(part.body))


class AlertStreamDecoder:
    """``feed(bytes)`` / ``next_message()`` over the stream body; built from the response Content-Type."""

    def __init__(self, content_type: str, *, max_part: int = multipart.DEFAULT_MAX_PART) -> None:
        boundary = multipart.boundary_from_content_type(content_type)
        self._parts = multipart.MultipartDecoder(
            boundary, max_part=max_part, max_buffer=max_part + multipart.DEFAULT_MAX_BUFFER
        )

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._parts.feed(data)

    def next_message(self) -> StreamMessage | NeedData:
        """The next event, heartbeat or drop report, or NEED_DATA."""
        message = self._parts.next_message()
        if message is NEED_DATA:
            return NEED_DATA
        if isinstance(message, multipart.Part):
            return decode_part(message)
        return message


def stream_content_type(boundary: bytes) -> str:
    """Device role: the response Content-Type of the stream."""
    return f"multipart/mixed; boundary={boundary.decode('ascii')}"


def encode_event_part(boundary: bytes, record: AcsEventRecord, *, name: str | None = None) -> bytes:
    """Device role: one access-control event part."""
    body = encode_event_json(record, name=name)
    return multipart.encode_part(boundary, 'application/json; charset="UTF-8"', body)


def encode_heartbeat_part(boundary: bytes, date_time: str) -> bytes:
    """Device role: one heartbeat part."""
    body = encode_heartbeat_xml(date_time)
    return multipart.encode_part(boundary, 'application/xml; charset="UTF-8"', body)


def encode_picture_part(boundary: bytes, jpeg: bytes) -> bytes:
    """Device role: the picture part that follows an event with ``picturesNumber`` > 0."""
    return multipart.encode_part(boundary, "image/jpeg", jpeg, extra_headers=[("Content-ID", "image_1")])
