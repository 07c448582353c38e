"""The comm-key scramble of CMD_AUTH (firmware ``MakeKey``, PROTOCOLS.md §2.2)."""

from __future__ import annotations

import struct

from firmware_protocols.zkteco.errors import ZkLocalError

_ZKSO = b"ZKSO"


def _reverse_bits32(value: int) -> int:
    return int(f"{value & 0xFFFFFFFF:032b}"[::-1], 2)


def make_commkey(key: int, session_id: int, ticks: int = 50) -> bytes:
    """The 4-byte CMD_AUTH payload for comm key ``key`` on session ``session_id``."""
    if not 0 <= key <= 0xFFFFFFFF:
        raise ZkLocalError(f"comm key {key} out of range")
    scrambled = (_reverse_bits32(key) + session_id) & 0xFFFFFFFF
    xored = bytes(b ^ z for b, z in zip(struct.pack("<I", scrambled), _ZKSO, strict=True))
    swapped = xored[2:4] + xored[0:2]
    tick = ticks & 0xFF
    return bytes((swapped[0] ^ tick, swapped[1] ^ tick, tick, swapped[3] ^ tick))
