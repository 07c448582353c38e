"""Quarantine: poison payloads (or one bad event of a batch) kept for inspection, never resent.

Rules: the caller adds the row to its transaction and commits; an event with a valid id is acked
only after its quarantine row is committed. A row keeps the first ``PREFIX_BYTES`` of the payload,
its size and its SHA-256, once: bytes only (a text copy would double it, and a database text column
refuses NULs and invalid UTF-8 anyway). The error text is made storable in any text column.
"""

from __future__ import annotations

import hashlib
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Quarantine

PREFIX_BYTES: Final = 64 * 1024
MAX_ERROR_CHARS: Final = 2000


def quarantine(
    session: AsyncSession, topic: str, payload: bytes, error: str, event_id: str | None = None
) -> None:
    """Keep a poison payload (or one bad event of a batch) for inspection; the caller commits."""
    session.add(
        Quarantine(
            topic=storable_text(topic)[:300],
            payload_prefix=payload[:PREFIX_BYTES],
            payload_size=len(payload),
            payload_sha256=hashlib.sha256(payload).hexdigest(),
            event_id=event_id,
            error=storable_text(error)[:MAX_ERROR_CHARS],
        )
    )


def storable_text(text: str) -> str:
    """``text`` with what no text column takes (NUL, lone surrogates) written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
