"""A batch encoder straight from stored rows: the bytes of ``encode(EventBatch(...))`` without objects.

The agent keeps every event as one row whose ``data`` is already compact JSON text and whose
timestamps are already the contract's UTC text (``…Z``). Building an ``Event`` per row only to turn
it back into the same text costs more than the rest of the link together, so this encoder splices
the row's text into the batch. Rule: for rows written by the agent (compact ``data`` with
``ensure_ascii=False``, timestamps from ``format_timestamp``) the result is byte-identical to
``encode(EventBatch(batch_id, events))``, and ``decode_batch`` accepts it in every case. Strings are
escaped with the JSON module's own C escaper (the one ``json.dumps(ensure_ascii=False)`` uses).
"""

from __future__ import annotations

from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Final

from firmware_protocols.sync.messages import VERSION

# Column order of a stored event row: seq, id, kind, device, occurred_at, device_time,
# received_at, data (JSON object text).
EventRowText = tuple[int, str, str, str, str, str, str, str]

# Bytes of one event's JSON beyond its field values (names, quotes, commas, braces).
EVENT_FRAME_BYTES: Final = 120


def encode_rows(batch_id: str, rows: Iterable[EventRowText]) -> bytes:
    """The batch payload of ``rows`` (the wire bytes of an ``EventBatch``)."""
    q = encode_basestring
    events = ",".join(
        f'{{"id":{q(event_id)},"seq":{int(seq)},"kind":{q(kind)},"device":{q(device)},'
        f'"occurred_at":{q(occurred_at)},"device_time":{q(device_time)},'
        f'"received_at":{q(received_at)},"data":{data}}}'
        for seq, event_id, kind, device, occurred_at, device_time, received_at, data in rows
    )
    return f'{{"v":{VERSION},"batch_id":{q(batch_id)},"events":[{events}]}}'.encode()


def row_bytes(row: EventRowText) -> int:
    """An upper estimate of the bytes ``row`` adds to a batch payload (to bound a batch's size)."""
    _seq, *texts = row
    # 3 bytes a character covers UTF-8 CJK text; a control character escaped as \u001f takes 6,
    # so a caller's budget should stay well below the hard limit (the sender uses a quarter).
    return 3 * len("".join(texts)) + EVENT_FRAME_BYTES
