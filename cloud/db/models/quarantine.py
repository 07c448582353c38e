"""Poison messages kept for inspection instead of crashing the ingest worker.

A row keeps a bounded prefix of the payload, its full size and its SHA-256, never the whole payload:
a hostile 10 MB message must not cost 10 MB of database per copy. The hash identifies a payload
(repeats, or a copy found elsewhere) without keeping it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class Quarantine(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(300))
    payload_prefix: Mapped[bytes] = mapped_column(LargeBinary)  # the first PREFIX_BYTES at most
    payload_size: Mapped[int] = mapped_column(BigInteger)  # of the whole payload, in bytes
    payload_sha256: Mapped[str] = mapped_column(String(64))  # hex, of the whole payload
    event_id: Mapped[str | None] = mapped_column(String(36))  # when one event of a batch was bad
    error: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
