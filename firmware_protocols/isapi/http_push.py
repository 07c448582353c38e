"""HTTP listening: the device POSTs ``multipart/form-data`` to the host set in ``httpHosts``.

The event is the part ``Content-Disposition: form-data; name="event_log"`` (the same JSON as the
alertStream); a picture part (any ``image/*``) may follow and is dropped unread (BIO-2). Form parts
usually carry no Content-Length, so they are boundary-delimited (see ``multipart``).
"""

from __future__ import annotations

from typing import Final

from firmware_protocols.errors import NEED_DATA
from firmware_protocols.isapi import multipart
from firmware_protocols.isapi.alert_stream import decode_part
from firmware_protocols.isapi.messages import AcsEventRecord, PartSkipped, StreamMessage

EVENT_PART: Final = "event_log"


def disposition_name(part: multipart.Part) -> str | None:
    """The ``name=`` parameter of a part's Content-Disposition header."""
    for param in (part.header("content-disposition") or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "name":
            return value.strip().strip('"')
    return None


def decode_form(content_type: str, body: bytes) -> list[StreamMessage]:
    """Every message in one pushed request body, in order."""
    boundary = multipart.boundary_from_content_type(content_type)
    room = max(len(body), multipart.DEFAULT_MAX_BUFFER) * 2
    decoder = multipart.MultipartDecoder(boundary, max_buffer=room)
    decoder.feed(body)
    messages: list[StreamMessage] = []
    while (message := decoder.next_message()) is not NEED_DATA:
        messages.append(_form_message(message))
    return messages


def _form_message(message: multipart.MultipartMessage) -> StreamMessage:
    if not isinstance(message, multipart.Part):
        return message
    if disposition_name(message) != EVENT_PART:
        return PartSkipped(reason=f"form part {disposition_name(message)!r}", size=len(message.body))
    return decode_part(message)


def encode_form(boundary: bytes, event_json: bytes, picture: bytes | None = None) -> bytes:
    """Device role: one push request body (event part, then the picture part if any)."""
    body = multipart.encode_part(
        boundary,
        "application/json",
        event_json,
        with_length=False,
        extra_headers=[("Content-Disposition", f'form-data; name="{EVENT_PART}"')],
    )
    if picture is not None:
        body += multipart.encode_part(
            boundary,
            "image/jpeg",
            picture,
            with_length=False,
            extra_headers=[("Content-Disposition", 'form-data; name="Picture"; filename="Picture.jpg"')],
        )
    return body + multipart.encode_close(boundary)


def form_content_type(boundary: bytes) -> str:
    """Device role: the push request's Content-Type."""
    return f"multipart/form-data; boundary={boundary.decode('ascii')}"


def event_records(messages: list[StreamMessage]) -> list[AcsEventRecord]:
    """Just the access-control events of a decoded form."""
    return [m for m in messages if isinstance(m, AcsEventRecord)]
