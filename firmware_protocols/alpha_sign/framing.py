"""Alpha packet framing: encoder and a streaming decoder.

Theory of operation
-------------------
A transmission packet on the wire::

    NUL×n  SOH×m  type  A A  ( STX code data [ETX [C1 C2 C3 C4]] )+  EOT
    0x00   0x01   1 ch  hex    0x02                0x03 4 hex          0x04

* Sync: any number of NUL (the sign autobauds on them) and one or more SOH.
* Groups: every STX starts a command group. A group ends at the next STX, or at EOT. With several
  groups, ETX closes each one. After ETX come either 4 hex digits of checksum or nothing.
* Checksum: the 16-bit sum of every byte from STX through ETX inclusive, as 4 upper-case hex digits
  (spec p.60: ``STX "AAHELLO" ETX`` -> ``01FB``). Compared case-insensitively; a mismatch drops the
  whole frame (a real sign ignores data with a bad checksum) and raises ``ChecksumError``.
* Groups without ETX/checksum are accepted (pyalphasign and alphasign 0.9 send them).

Resync and garbage rule (``Decoder``)
-------------------------------------
Bytes before an SOH are skipped; NULs among them are sync, anything else is counted in
``garbage_bytes``. A frame runs from its SOH run to the first EOT. If another SOH appears first, the
partial frame is dropped (``FrameCutShort``) and decoding restarts at the new SOH. A frame that grows
past ``max_frame`` bytes without an EOT is dropped (``FrameTooLong``). A frame whose content is
invalid raises ``AlphaProtocolError`` *after* it has been consumed, so the next call continues with
the following bytes: the decoder always resyncs by itself.

Timing: clients pause ~100 ms after STX; a frame routinely arrives in several reads. Nothing here
depends on read boundaries.
"""

from __future__ import annotations

import re
from typing import Final

from firmware_protocols.alpha_sign.commands import decode_command, encode_command
from firmware_protocols.alpha_sign.constants import (
    EOT,
    ETX,
    NUL,
    RESPONSE_SYNC_NULS,
    RESPONSE_TYPE_CODE,
    SOH,
    STX,
    SYNC_NULS,
)
from firmware_protocols.alpha_sign.errors import (
    AlphaEncodeError,
    AlphaProtocolError,
    ChecksumError,
    FrameCutShort,
    FrameTooLong,
)
from firmware_protocols.alpha_sign.messages import Command, Packet
from firmware_protocols.errors import NEED_DATA, NeedData

DEFAULT_MAX_FRAME: Final = 256 * 1024
"""Larger than the biggest SMALL DOTS picture (255 × 255 digits + CRs)."""

_ADDRESS: Final = re.compile(rb"[0-9A-Fa-f?]{2}")
_CHECKSUM: Final = re.compile(rb"[0-9A-Fa-f]{4}")
_STX_BYTE: Final = bytes([STX])
_ETX_BYTE: Final = bytes([ETX])


def checksum(group: bytes) -> bytes:
    """Four upper-case hex digits of the 16-bit sum of ``group`` (STX through ETX inclusive)."""
    return f"{sum(group) & 0xFFFF:04X}".encode()


# --- encoding ---------------------------------------------------------------------------------


def _encode_header(packet: Packet) -> bytes:
    type_code = packet.type_code.encode("latin-1", errors="replace")
    address = packet.address.encode("latin-1", errors="replace")
    if len(type_code) != 1 or type_code[0] in (NUL, SOH, STX, ETX, EOT):
        raise AlphaEncodeError(f"type code must be one non-framing character, got {packet.type_code!r}")
    if not _ADDRESS.fullmatch(address):
        raise AlphaEncodeError(f"address must be two hex digits or '?', got {packet.address!r}")
    return bytes([SOH]) + type_code + address


def _encode_group(command: Command, *, with_checksum: bool, with_etx: bool) -> bytes:
    group = _STX_BYTE + encode_command(command)
    if not (with_checksum or with_etx):
        return group
    group += _ETX_BYTE
    return group + checksum(group) if with_checksum else group


def encode_packet(packet: Packet, *, sync: int = SYNC_NULS) -> bytes:
    """The wire bytes of ``packet``: NUL preamble, header, groups (checksummed if asked), EOT."""
    if not packet.commands:
        raise AlphaEncodeError("a packet needs at least one command")
    nested = len(packet.commands) > 1
    groups = (_encode_group(c, with_checksum=packet.checksum, with_etx=nested) for c in packet.commands)
    return bytes(sync) + _encode_header(packet) + b"".join(groups) + bytes([EOT])


def response_packet(command: Command) -> Packet:
    """The packet a sign answers a read request with: type ``0``, address ``00``, checksummed."""
    return Packet(type_code=RESPONSE_TYPE_CODE, address="00", commands=(command,), checksum=True)


def encode_response(command: Command) -> bytes:
    """Wire bytes of a sign's response holding ``command`` (longer NUL preamble)."""
    return encode_packet(response_packet(command), sync=RESPONSE_SYNC_NULS)


# --- decoding ---------------------------------------------------------------------------------


def _decode_group(segment: bytes) -> tuple[Command, bool]:
    """One group (the bytes after its STX) → (command, carried a checksum)."""
    end = segment.find(_ETX_BYTE)
    if end < 0:
        return decode_command(segment), False
    body, trailer = segment[:end], segment[end + 1 :]
    if not trailer:
        return decode_command(body), False
    if not _CHECKSUM.fullmatch(trailer):
        raise AlphaProtocolError(f"expected 4 hex digits of checksum after ETX, got {trailer[:8]!r}")
    expected = checksum(_STX_BYTE + body + _ETX_BYTE)
    if trailer.upper() != expected:
        raise ChecksumError(f"checksum {trailer.decode()} does not match {expected.decode()}")
    return decode_command(body), True


def decode_frame(frame: bytes) -> Packet:
    """Decode one frame: the bytes after the SOH run, up to (not including) EOT."""
    if len(frame) < 4 or frame[3] != STX:
        raise AlphaProtocolError(f"expected type code, 2-char address and STX, got {frame[:4]!r}")
    if not _ADDRESS.fullmatch(frame[1:3]):
        raise AlphaProtocolError(f"bad address {frame[1:3]!r}")
    groups = [_decode_group(segment) for segment in frame[4:].split(_STX_BYTE)]
    return Packet(
        type_code=frame[:1].decode("latin-1"),
        address=frame[1:3].decode("ascii").upper(),
        commands=tuple(command for command, _ in groups),
        checksum=all(checked for _, checked in groups),
    )


class Decoder:
    """Streaming decoder: ``feed(bytes)``, then ``next_message()`` until it returns NEED_DATA."""

    def __init__(self, *, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame
        self.garbage_bytes = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buffer += data

    def next_message(self) -> Packet | NeedData:
        """The next complete packet, or NEED_DATA; raises AlphaProtocolError for a dropped frame."""
        if not self._skip_to_soh():
            return NEED_DATA
        start = self._frame_start()
        eot = self._buffer.find(EOT, start)
        next_soh = self._buffer.find(SOH, start)
        if next_soh >= 0 and (eot < 0 or next_soh < eot):
            self._drop(next_soh)
            raise FrameCutShort(f"a new packet began after {next_soh} bytes, before EOT")
        if eot < 0:
            return self._wait_or_drop()
        frame = bytes(self._buffer[start:eot])
        del self._buffer[: eot + 1]
        return decode_frame(frame)

    def _skip_to_soh(self) -> bool:
        soh = self._buffer.find(SOH)
        skipped = self._buffer if soh < 0 else self._buffer[:soh]
        self.garbage_bytes += len(skipped) - skipped.count(NUL)
        del self._buffer[: len(skipped)]
        return soh >= 0

    def _frame_start(self) -> int:
        start = 0
        while start < len(self._buffer) and self._buffer[start] == SOH:
            start += 1
        return start

    def _drop(self, count: int) -> None:
        self.garbage_bytes += count
        del self._buffer[:count]

    def _wait_or_drop(self) -> NeedData:
        if len(self._buffer) <= self._max_frame:
            return NEED_DATA
        size = len(self._buffer)
        self._drop(size)
        raise FrameTooLong(f"{size} bytes without EOT (max {self._max_frame})")
