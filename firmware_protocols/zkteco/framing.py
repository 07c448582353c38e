"""4370 packets on UDP and TCP.

Theory of operation (PROTOCOLS.md §2.1)::

    UDP datagram:  | command u16 | checksum u16 | session u16 | reply u16 | data ... |
    TCP stream:    | 50 50 82 7D | length u32 | <the UDP packet, ``length`` bytes> |

All fields are little endian. The checksum is the firmware ``in_cksum`` over the header (checksum
field zero) and the data. A bad checksum is not fatal: the decoded ``Packet`` says
``checksum_ok=False`` and the caller decides (the simulator accepts with a warning, the agent refuses).

Resync rule (TCP): bytes before the magic ``50 50 82 7D`` are garbage and skipped. A magic whose
length is below 8 or above ``MAX_PACKET`` is taken for garbage too: one byte is skipped and the search
goes on. The receive buffer is bounded by ``max_buffer``; ``feed`` raises when it would overflow.
No timing rule applies: a frame may arrive split anywhere, or several frames in one read.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Final

from firmware_protocols.errors import NEED_DATA, NeedData
from firmware_protocols.zkteco.checksum import in_cksum
from firmware_protocols.zkteco.errors import ZkLocalError, ZkRemoteError

TCP_MAGIC: Final = b"\x50\x50\x82\x7d"
HEADER_SIZE: Final = 8
TCP_TOP_SIZE: Final = 8
MAX_PACKET: Final = 1 << 20  # far above the largest real frame (a 0xFFC0 chunk + header)
_HEADER: Final = struct.Struct("<4H")
_TOP: Final = struct.Struct("<4sI")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    """One 4370 packet; ``checksum_ok`` is False when a received checksum did not match."""

    command: int
    session_id: int = 0
    reply_id: int = 0
    data: bytes = b""
    checksum_ok: bool = True


def _checked_u16(name: str, value: int) -> int:
    if not 0 <= value <= 0xFFFF:
        raise ZkLocalError(f"{name} {value} is not a u16")
    return value


def encode_packet(packet: Packet) -> bytes:
    """Header + data with the correct checksum: one UDP datagram."""
    fields = [_checked_u16(n, getattr(packet, n)) for n in ("command", "session_id", "reply_id")]
    if len(packet.data) + HEADER_SIZE > MAX_PACKET:
        raise ZkLocalError(f"packet data of {len(packet.data)} bytes is too long")
    unsigned = _HEADER.pack(fields[0], 0, fields[1], fields[2]) + packet.data
    return _HEADER.pack(fields[0], in_cksum(unsigned), fields[1], fields[2]) + packet.data


def encode_tcp(packet: Packet) -> bytes:
    """The packet behind the TCP top (magic + u32 length)."""
    body = encode_packet(packet)
    return _TOP.pack(TCP_MAGIC, len(body)) + body


def decode_datagram(datagram: bytes) -> Packet:
    """Decode one UDP datagram (header + data)."""
    if len(datagram) < HEADER_SIZE:
        raise ZkRemoteError(f"datagram of {len(datagram)} bytes is shorter than a header")
    command, checksum, session_id, reply_id = _HEADER.unpack_from(datagram)
    unsigned = datagram[:2] + b"\0\0" + datagram[4:]
    return Packet(
        command=command,
        session_id=session_id,
        reply_id=reply_id,
        data=bytes(datagram[HEADER_SIZE:]),
        checksum_ok=in_cksum(unsigned) == checksum,
    )


class TcpDecoder:
    """Split a TCP byte stream into packets: ``feed(data)``, then ``next_message()`` until NEED_DATA."""

    def __init__(self, max_buffer: int = 2 * MAX_PACKET) -> None:
        self._buffer = bytearray()
        self._max_buffer = max_buffer
        self.skipped_bytes = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes; raise ``ZkRemoteError`` if the buffer would exceed its bound."""
        if len(self._buffer) + len(data) > self._max_buffer:
            self._buffer.clear()
            raise ZkRemoteError(f"receive buffer over {self._max_buffer} bytes")
        self._buffer += data

    def next_message(self) -> Packet | NeedData:
        """The next complete packet, or NEED_DATA."""
        while True:
            if not self._skip_to_magic():
                return NEED_DATA
            if len(self._buffer) < TCP_TOP_SIZE:
                return NEED_DATA
            _, length = _TOP.unpack_from(self._buffer)
            if not HEADER_SIZE <= length <= MAX_PACKET:
                self._drop(1)
                continue
            end = TCP_TOP_SIZE + length
            if len(self._buffer) < end:
                return NEED_DATA
            body = bytes(self._buffer[TCP_TOP_SIZE:end])
            del self._buffer[:end]
            return decode_datagram(body)

    def _skip_to_magic(self) -> bool:
        """Drop bytes before the magic (keep a partial magic); True if the buffer starts with it."""
        at = self._buffer.find(TCP_MAGIC)
        if at < 0:
            keep = next((n for n in (3, 2, 1) if self._buffer.endswith(TCP_MAGIC[:n])), 0)
            self._drop(len(self._buffer) - keep)
            return False
        self._drop(at)
        return True

    def _drop(self, count: int) -> None:
        self.skipped_bytes += count
        del self._buffer[:count]
