"""Enrolment tokens (ACC-3): a long secret for QR codes and URLs, and a short code for typing.

The admin API shows both once; storage keeps only hashes (the DB layer's job). The short code is
8 Crockford base32 characters (40 bits) derived from the same secret through SHA-256, so it reveals
nothing of the token. 40 bits are enough only because a token is single-use, expires within hours,
and the enrol route limits attempts: the route must apply all three.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Final, NamedTuple

from cloud.security import hash_token

CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LENGTH: Final = 8
TOKEN_BYTES: Final = 32
# Crockford's reading aids: letters people confuse with digits are read as those digits.
_READ_AS: Final = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SHORT_CODE_CONTEXT: Final = b"mpm-edge enrolment short code v1\x00"


class EnrolmentToken(NamedTuple):
    """A fresh enrolment secret in its three forms."""

    token: str
    short_code: str
    token_hash: str


def new_enrolment_token() -> EnrolmentToken:
    """A new token (32 random bytes, URL-safe), its short code ``ABCD-EFGH`` and the token's hash."""
    secret = secrets.token_bytes(TOKEN_BYTES)
    token = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    return EnrolmentToken(token=token, short_code=_short_code(secret), token_hash=hash_token(token))


def hash_enrolment_token(token: str) -> str:
    """The stored form of a token: hex SHA-256, as for bearer tokens."""
    return hash_token(token)


def normalise_short_code(text: str) -> str:
    """``ABCD-EFGH`` from what a person typed (any case, spaces or dashes, I/L/O for 1/0)."""
    compact = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(compact) != SHORT_CODE_LENGTH or any(char not in CROCKFORD for char in compact):
        raise ValueError(f"a short code is {SHORT_CODE_LENGTH} Crockford base32 characters")
    return f"{compact[:4]}-{compact[4:]}"


def hash_short_code(text: str) -> str:
    """The stored form of a short code (normalised first): hex SHA-256 with its own context."""
    return hashlib.sha256(_SHORT_CODE_CONTEXT + normalise_short_code(text).encode()).hexdigest()


def _short_code(secret: bytes) -> str:
    digest = hashlib.sha256(_SHORT_CODE_CONTEXT + secret).digest()
    value = int.from_bytes(digest[:5], "big")  # 40 bits = 8 characters of 5 bits
    chars = [CROCKFORD[(value >> shift) & 0x1F] for shift in range(35, -1, -5)]
    return f"{''.join(chars[:4])}-{''.join(chars[4:])}"
