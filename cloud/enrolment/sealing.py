"""Sealed copies of enrolment tokens, so an admin can fetch a token's QR code again while it is live.

The database keeps only hashes for look-ups; ``token_sealed`` is AES-256-GCM of the token under a key
derived (HKDF-SHA256) from the CA key file and its passphrase, which never enter the database: a
database dump alone reveals no live token. The row id is the associated data, so a sealed copy moved to
another row does not open. Replacing the CA makes outstanding sealed copies unreadable (their QR
answers 410); the tokens themselves still work, and they expire within hours anyway.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES: Final = 12
_INFO: Final = b"mpm-edge enrolment token seal v1"


class TokenSeal:
    """Seals and opens enrolment tokens bound to their row id."""

    def __init__(self, secret_material: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_material)
        self._aead = AESGCM(key)

    def seal(self, token: str, row_id: int) -> bytes:
        """``nonce | ciphertext + tag`` of ``token`` for row ``row_id``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, token.encode(), _associated(row_id))

    def open(self, sealed: bytes, row_id: int) -> str | None:
        """The token, or None when the sealed copy is not for this row or this key."""
        try:
            plain = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated(row_id))
        except (InvalidTag, ValueError):
            return None
        return plain.decode()


def _associated(row_id: int) -> bytes:
    return f"enrolment_token:{row_id}".encode()
