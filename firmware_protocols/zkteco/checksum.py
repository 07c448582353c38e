"""The firmware ``in_cksum`` over a 4370 header (checksum field zero) and its data (PROTOCOLS.md §2.1).

Rule: add the bytes as 16-bit little-endian words (an odd last byte counts as a word with a zero high
byte); whenever the sum exceeds 0xFFFF subtract 0xFFFF (end-around carry); the result is ``~sum``.
"""

from __future__ import annotations


def in_cksum(data: bytes) -> int:
    """The 16-bit firmware checksum of ``data``."""
    total = 0
    for i in range(0, len(data) - 1, 2):
        total += data[i] | (data[i + 1] << 8)
        if total > 0xFFFF:
            total -= 0xFFFF
    if len(data) % 2:
        total += data[-1]
        if total > 0xFFFF:
            total -= 0xFFFF
    return ~total & 0xFFFF
