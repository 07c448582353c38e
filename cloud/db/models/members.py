"""Departments (a tree) and members of an organisation, privacy-shaped (shared/PRIVACY.md ENC-1).

Sensitive fields exist only as ``*_enc`` blobs (AES-GCM under the organisation's data key, see
``cloud/domain/keys.py``) and ``phone_hmac`` for lookups; no plaintext column exists for them.
Erasure (DEL-1) blanks the personal fields and renames the member to a pseudonym; ledger rows keep
pointing at the same id, so balances stay intact and no mapping back to the person survives.
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


class Department(Base):
    """A node of the organisation's department tree (``parent_id`` None: a root)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("org_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("org_id", "pin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(64))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    pin: Mapped[str | None] = mapped_column(String(32))  # the terminals' person id
    card: Mapped[str | None] = mapped_column(String(32))  # the terminals' card number
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    guardian_contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # MIN-1: a member is a minor when flagged, or when the birth year (set directly, or taken from the
    # encrypted birth date when it is written) may make them younger than the org's ``minors_age``.
    birth_year: Mapped[int | None]
    minor: Mapped[bool] = mapped_column(default=False)
    left_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
