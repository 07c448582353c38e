"""Bearer tokens: 32 random bytes, URL-safe; only their SHA-256 hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A fresh bearer token (shown once to its owner, never stored)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of ``token``: hex SHA-256 (tokens are random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
