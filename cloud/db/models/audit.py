"""The audit log (PRIVACY.md AUD-1): one hash chain per organisation, with its head kept beside it.

``fields`` is the canonical JSON text the hash was computed over (``cloud.audit.chain``), stored as
text so what is read back hashes exactly as written. ``audit_head`` holds each chain's last seq and
hash; appending locks that row, so concurrent writers of one organisation take turns.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(64), index=True)  # also inside ``fields``, for filtering
    fields: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AuditHead(Base):
    __tablename__ = "audit_head"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
