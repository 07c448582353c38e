"""Quarantine: poison payloads (or one bad event of a batch) kept for inspection, never resent.

Rule: the caller adds the row to its transaction and commits; an event with a valid id is acked
only after its quarantine row is committed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Quarantine


def quarantine(
    session: AsyncSession, topic: str, payload: bytes, error: str, event_id: str | None = None
) -> None:
    """Keep a poison payload (or one bad event of a batch) for inspection; the caller commits."""
    try:
        text: str | None = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" in text:
        text = None  # PostgreSQL text cannot hold NUL; the bytes column keeps everything
    error = error.replace("\x00", "\\x00")[:2000]
    session.add(
        Quarantine(topic=topic[:300], payload=payload, payload_text=text, event_id=event_id, error=error)
    )
