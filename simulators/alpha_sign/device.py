"""The sign's receive side: bytes in, memory updated, response bytes out.

One ``feed`` is any slice of the stream (the Decoder reassembles frames). A packet is taken when its
type code is not ``0`` (another sign's response) and its address is ``00``, the sign's own, or
matches it with ``?`` wildcards. Bad checksums, cut-short frames and garbage are dropped and counted.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, deque
from typing import Any

from firmware_protocols.alpha_sign import (
    READ_COMMANDS,
    AlphaProtocolError,
    ChecksumError,
    Command,
    Decoder,
    Packet,
    encode_response,
)
from firmware_protocols.alpha_sign.constants import BROADCAST_ADDRESS, RESPONSE_TYPE_CODE, WILDCARD_DIGIT
from firmware_protocols.errors import NEED_DATA
from simulators.alpha_sign.memory import SignMemory

LOG_LENGTH = 50
COUNTERS = (
    "bytes_received",
    "frames_ok",
    "with_checksum",
    "without_checksum",
    "checksum_errors",
    "framing_errors",
    "not_addressed",
    "responses",
    "ignored_bytes",
)


@dataclasses.dataclass
class Faults:
    """Fault injection, changeable at run time: drop all input, garble answers, answer late, chatter."""

    ignore: bool = False
    garble: bool = False
    answer_delay_s: float = 0.0
    chatter: bytes = b""  # sent back for every chunk received: a noisy line or a confused sign


def _addressed(packet: Packet, own: str) -> bool:
    if packet.type_code == RESPONSE_TYPE_CODE:
        return False
    wanted = packet.address.upper()
    if wanted == BROADCAST_ADDRESS:
        return True
    return all(w in (WILDCARD_DIGIT, o) for w, o in zip(wanted, own, strict=True))


def _describe(command: Command, checksum: bool) -> dict[str, Any]:
    fields = {k: (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in _fields(command).items()}
    return {"command": type(command).__name__, "checksum": checksum, **fields}


def _fields(command: Command) -> dict[str, Any]:
    return {f.name: getattr(command, f.name) for f in dataclasses.fields(command) if f.name != "entries"}


class AlphaSignDevice:
    def __init__(self, *, address: str = "00") -> None:
        self.address = address.upper()
        self.memory = SignMemory()
        self.faults = Faults()
        self.counters: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_LENGTH)
        self._decoder = Decoder()

    def feed(self, data: bytes) -> tuple[list[bytes], bool]:
        """Take received bytes; returns (responses to send, whether the state changed)."""
        responses = [self.faults.chatter] if self.faults.chatter else []
        self.counters["bytes_received"] += len(data)
        if self.faults.ignore:
            self.counters["ignored_bytes"] += len(data)
            return responses, False
        self._decoder.feed(data)
        changed = False
        while True:
            try:
                packet = self._decoder.next_message()
            except AlphaProtocolError as exc:
                self.counters["checksum_errors" if isinstance(exc, ChecksumError) else "framing_errors"] += 1
                changed = True
                continue
            if packet is NEED_DATA:
                break
            responses += self._take(packet)
            changed = True
        return responses, changed

    def _take(self, packet: Packet) -> list[bytes]:
        if not _addressed(packet, self.address):
            self.counters["not_addressed"] += 1
            return []
        self.counters["frames_ok"] += 1
        self.counters["with_checksum" if packet.checksum else "without_checksum"] += 1
        responses: list[bytes] = []
        for command in packet.commands:
            self.log.append(_describe(command, packet.checksum))
            answer = self.memory.apply(command)
            if answer is not None and isinstance(command, READ_COMMANDS):
                responses.append(self._garbled(encode_response(answer)))
                self.counters["responses"] += 1
        return responses

    def _garbled(self, wire: bytes) -> bytes:
        if not self.faults.garble:
            return wire
        # Flip the last checksum digit: a client that checks sees a bad answer.
        return wire[:-2] + (b"0" if wire[-2:-1] != b"0" else b"1") + wire[-1:]

    def state(self) -> dict[str, Any]:
        """Everything a test or a person wants to know, JSON-ready."""
        pages = self.memory.showing()
        return {
            "address": self.address,
            **self.memory.snapshot(),
            "counters": {"garbage_bytes": self._decoder.garbage_bytes, **self.counters},
            "showing": [line for page in pages for line in page],
            "showing_pages": pages,
            "log": list(self.log),
        }
