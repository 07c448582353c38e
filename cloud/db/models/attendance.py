"""Attendance punches as received from the agents, and the rules that turn them into points."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class AttendancePunch(Base):
    """One punch; ``UNIQUE(agent, event_id)`` makes redelivered batches harmless."""

    __tablename__ = "attendance_punch"
    __table_args__ = (
        UniqueConstraint("agent_pk", "event_id"),
        Index("ix_attendance_punch_member_time", "org_id", "member_id", "occurred_at"),
        # The re-read check looks up an agent's dedup keys: a probe, not a walk of its punches.
        Index("ix_attendance_punch_agent_dedup", "agent_pk", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)  # the contract's range (firmware_protocols.sync)
    device: Mapped[str] = mapped_column(String(64))
    pin: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    occurred_at: Mapped[dt.datetime]
    device_time: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime]  # the agent's clock
    ingested_at: Mapped[dt.datetime] = mapped_column(default=utc_now)  # the cloud's clock
    verify_mode: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    dedup_key: Mapped[str] = mapped_column(String(200))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), index=True)


class AttendanceRule(Base):
    """A local day's first check-in by ``shift_start`` earns the on-time rule, later a late one.

    ``late_bands`` refine lateness: ``[{"after_minutes": 15, "rule_id": 7}, …]``; the band with the
    largest ``after_minutes`` below the minutes late applies, ``late_rule_id`` when none does.
    ``absence_rule_id`` is applied by closing a day to active members with no check-in that day.
    With ``shift_end`` and ``early_leave_rule_id``, closing a day gives a member whose last check-out
    was before the shift end the early-leave rule; ``early_leave_bands`` refine it by minutes early
    like the late bands. ``full_attendance_rule_id`` is awarded by closing a month.
    """

    __tablename__ = "attendance_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    shift_start: Mapped[dt.time] = mapped_column(Time)
    on_time_rule_id: Mapped[int] = mapped_column(ForeignKey("point_rule.id"))
    late_rule_id: Mapped[int] = mapped_column(ForeignKey("point_rule.id"))
    late_bands: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    absence_rule_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule.id"))
    shift_end: Mapped[dt.time | None] = mapped_column(Time)
    early_leave_rule_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule.id"))
    early_leave_bands: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    full_attendance_rule_id: Mapped[int | None] = mapped_column(ForeignKey("point_rule.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AttendanceCorrection(Base):
    """A correction (补卡): the member was there on ``day``; generated lateness or absence is cancelled."""

    __tablename__ = "attendance_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    day: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(2000))
    created_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
