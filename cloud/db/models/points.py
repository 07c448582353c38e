"""Point types, the rule catalogue, the append-only ledger and the balances derived from it."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.engine import default as engine_default
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class EntrySource(enum.StrEnum):
    MANUAL = "manual"
    ATTENDANCE = "attendance"
    SYSTEM = "system"
    TASK = "task"


class EntryStatus(enum.StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"


class PointType(Base):
    __tablename__ = "point_type"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))


class PointRule(Base):
    __tablename__ = "point_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    category: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(200))
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    points: Mapped[int]
    min_points: Mapped[int | None]
    max_points: Mapped[int | None]
    needs_review: Mapped[bool] = mapped_column(default=False)
    issues_tickets: Mapped[bool] = mapped_column(default=False)


ATTENDANCE_KEY_PREFIX = "attendance:"


def attendance_day_of(idempotency_key: str) -> str | None:
    """The attendance day an entry's key belongs to (``attendance:{member}:{date}``), or None.

    Rule: the day's first check-in is keyed ``attendance:{member}:{date}``; later corrections of the
    same day append ``:{something}`` to that key. So the day is the key's first three fields.
    """
    if not idempotency_key.startswith(ATTENDANCE_KEY_PREFIX):
        return None
    fields = idempotency_key.split(":", 3)
    return ":".join(fields[:3]) if len(fields) >= 3 else None


def _attendance_day_default(context: engine_default.DefaultExecutionContext) -> str | None:
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    return attendance_day_of(str(parameters["idempotency_key"]))


class LedgerEntry(Base):
    """Append-only: member, points, type and date never change; a revocation is a compensating entry
    (``revokes_id``). The workflow moves ``status`` forward once: pending → approved | rejected."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        Index("ix_ledger_entry_member_date", "org_id", "member_id", "effective_date"),
        Index("ix_ledger_entry_attendance_day", "org_id", "attendance_day"),
        # Partial: the few revocations only, so "is it revoked?" stays a probe even once the
        # planner's statistics see that almost every row has no revokes_id.
        Index(
            "ix_ledger_entry_revokes_id",
            "revokes_id",
            sqlite_where=text("revokes_id IS NOT NULL"),
            postgresql_where=text("revokes_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    points: Mapped[int]
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16), default=EntryStatus.APPROVED)
    revokes_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_event.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # Derived from the key on insert (attendance_day_of): the day-decision lookup is an index seek.
    attendance_day: Mapped[str | None] = mapped_column(String(200), default=_attendance_day_default)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Balance(Base):
    """Points of a member per period, kept in the same transaction as the ledger insert.

    The ranking index (org, point type, period, points DESC) makes "top N of a period" an index read.
    """

    __tablename__ = "balance"
    __table_args__ = (
        UniqueConstraint(
            "org_id",
            "point_type_id",
            "period_kind",
            "period_key",
            "member_id",
            name="uq_balance_period_member",
        ),
        Index("ix_balance_ranking", "org_id", "point_type_id", "period_kind", "period_key", "points"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    period_kind: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(default=0)


class RankingSnapshot(Base):
    """A closed period's ranking, frozen: published rankings stay reproducible after late entries."""

    __tablename__ = "ranking_snapshot"
    __table_args__ = (
        Index("ix_ranking_snapshot_period", "org_id", "point_type_id", "period_kind", "period_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    period_kind: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    frozen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    frozen_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
