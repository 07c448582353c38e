"""Reading the cloud's ``down/ack`` cheaply and strictly: the same verdicts as ``sync.decode_ack``.

An ack comes from the broker, so it is untrusted: anything but a version-1 object with exactly a
``batch_id`` string (≤ 64 chars) and an ``event_ids`` array (≤ ``MAX_BATCH_EVENTS``) of canonical
UUIDv7 strings raises ``SyncProtocolError``, like the contract's decoder. The difference is cost:
``decode_ack`` parses each id into a ``uuid.UUID`` and back (≈ 2 µs an id); here one compiled
pattern checks each id's canonical text (version 7, RFC 9562 variant), which is the same rule.
A test holds the two decoders to the same answers on random payloads.
"""

from __future__ import annotations

import re
from typing import Final

from firmware_protocols.sync import MAX_BATCH_EVENTS, VERSION, Ack, SyncProtocolError, load_contract_json
from firmware_protocols.sync.messages import MAX_PAYLOAD_BYTES

_FIELDS: Final = frozenset({"v", "batch_id", "event_ids"})
_CANONICAL_UUID7: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def read_ack(payload: bytes) -> Ack:
    """The ``Ack`` in ``payload``, or ``SyncProtocolError`` if it breaks the contract."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise SyncProtocolError(f"ack: payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise SyncProtocolError("ack: not UTF-8") from None
    obj = load_contract_json(text, "ack")  # finite numbers, 64-bit integers, no lone surrogates
    if not isinstance(obj, dict) or obj.keys() - _FIELDS or len(obj) != len(_FIELDS):
        raise SyncProtocolError("ack: expected an object with exactly v, batch_id and event_ids")
    version, batch_id, ids = obj["v"], obj["batch_id"], obj["event_ids"]
    if type(version) is not int or version != VERSION:
        raise SyncProtocolError(f"ack.v: expected version {VERSION}")
    if not isinstance(batch_id, str) or len(batch_id) > 64:
        raise SyncProtocolError("ack.batch_id: expected a string of at most 64 chars")
    if not isinstance(ids, list) or len(ids) > MAX_BATCH_EVENTS:
        raise SyncProtocolError(f"ack.event_ids: expected an array of at most {MAX_BATCH_EVENTS} items")
    if not all(isinstance(i, str) and _CANONICAL_UUID7.fullmatch(i) for i in ids):
        raise SyncProtocolError("ack.event_ids: every id must be a canonical UUIDv7")
    return Ack(batch_id=batch_id, event_ids=tuple(ids))
