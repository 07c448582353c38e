"""Attendance calendars: work weeks, holidays and make-up work days, shifts, who works which shift, leave.

An organisation without a ``work_calendar`` row works every day (the behaviour before calendars).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class DayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # a public holiday: no one is expected
    WORKDAY = "workday"  # a make-up work day (调休): a work day even on a weekend


class WorkCalendar(Base):
    """Which ISO weekdays (1 = Monday … 7 = Sunday) are work days for the organisation."""

    __tablename__ = "work_calendar"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    work_weekdays: Mapped[list[int]] = mapped_column(JSON)


class CalendarDay(Base):
    """A date that differs from the work week: a public holiday or a make-up work day."""

    __tablename__ = "calendar_day"
    __table_args__ = (UniqueConstraint("org_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    day: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")


class Shift(Base):
    """Working hours; ``end`` at or before ``start`` crosses midnight (the shift ends the next day).

    On time up to ``grace_minutes`` after ``start + flexible_minutes``; lateness (and the late bands)
    count from ``start + flexible_minutes``.
    """

    __tablename__ = "shift"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(100))
    start: Mapped[dt.time] = mapped_column(Time)
    end: Mapped[dt.time] = mapped_column(Time)
    grace_minutes: Mapped[int] = mapped_column(default=0)
    flexible_minutes: Mapped[int] = mapped_column(default=0)


class ShiftAssignment(Base):
    """A member's or a department's shift (exactly one of the two is set); a member's wins."""

    __tablename__ = "shift_assignment"
    __table_args__ = (UniqueConstraint("org_id", "member_id"), UniqueConstraint("org_id", "department_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))


class LeaveRecord(Base):
    """Approved leave from ``first_day`` to ``last_day`` (inclusive): absence those days is excused."""

    __tablename__ = "leave_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    first_day: Mapped[dt.date]
    last_day: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
