"""Members of an organisation, privacy-shaped (shared/PRIVACY.md ENC-1).

Sensitive fields exist only as ``*_enc`` blobs (AES-GCM under the organisation's data key, filled
by a later brief) and ``phone_hmac`` for lookups; no plaintext column exists for them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    ERASED = "erased"


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("org_id", "pin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(64))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    pin: Mapped[str | None] = mapped_column(String(32))  # the terminals' person id
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
