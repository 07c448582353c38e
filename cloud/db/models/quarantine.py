"""Poison messages kept for inspection instead of crashing the ingest worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class Quarantine(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_text: Mapped[str | None] = mapped_column(Text)  # when the payload is UTF-8
    event_id: Mapped[str | None] = mapped_column(String(36))  # when one event of a batch was bad
    error: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
