"""The award workflow: events (one award for one or many members), authority limits and appeals."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class AppealStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DENIED = "denied"


class LedgerEvent(Base):
    """One submitted award or deduction; its ledger entries (one per member) share its status."""

    __tablename__ = "ledger_event"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    points: Mapped[int]
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    submitted_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    submitted_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    decided_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AuthorityLimit(Base):
    """The most points (absolute) a manager may award or deduct per event and member, per point type."""

    __tablename__ = "authority_limit"
    __table_args__ = (UniqueConstraint("org_id", "manager_member_id", "point_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    manager_member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    max_points: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Appeal(Base):
    """A member's appeal against one approved entry; upheld → a compensating entry."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=AppealStatus.PENDING)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    compensation_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    decided_at: Mapped[dt.datetime | None]
