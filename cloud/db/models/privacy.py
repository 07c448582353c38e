"""Per-organisation data keys (wrapped) and versioned consent records (PRIVACY.md ENC-1/2, CON-1)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class ConsentKind(enum.StrEnum):
    BIOMETRIC = "biometric"
    PUBLIC_DISPLAY = "public_display"
    THIRD_PARTY = "third_party"


class OrgDataKey(Base):
    """The organisation's data key wrapped by the master key; deleting the row shreds its fields."""

    __tablename__ = "org_data_key"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Consent(Base):
    """One consent decision; never updated: the newest row per (member, kind) is the one in force."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_member_kind", "org_id", "member_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool]  # False: a withdrawal (or a refusal)
    notice_version: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))  # "self" or "guardian"
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
