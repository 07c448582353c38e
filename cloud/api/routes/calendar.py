"""Attendance calendars: import (CSV or JSON), the year's calendar, shifts, shift assignments, leave."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select

from cloud.api.deps import Manager, OrgAdmin, PageDep, QueryId, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas import Id, Out, Text
from cloud.db.models import Department, LeaveRecord, Member, Shift, ShiftAssignment, WorkCalendar
from cloud.domain import audit_log, calendar_import

router = APIRouter(tags=["calendar"])
MAX_FILE_BYTES = 512 * 1024
Minutes = Field(default=0, ge=0, le=720)

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "date,kind,name\n2026-10-01,holiday,National Day\n",
            },
            "application/json": {
                "example": {
                    "work_weekdays": [1, 2, 3, 4, 5],
                    "days": [{"date": "2026-10-01", "kind": "holiday", "name": "National Day"}],
                },
                "schema": {
                    "type": "object",
                    "properties": {
                        "work_weekdays": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 1, "maximum": 7},
                        },
                        "days": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
}


class CalendarImportOut(BaseModel):
    days_written: int
    work_weekdays: list[int] | None


class CalendarDayOut(Out):
    day: dt.date
    kind: str
    name: str


class CalendarOut(BaseModel):
    work_weekdays: list[int]
    days: list[CalendarDayOut]


class ShiftIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "night", "start": "22:00:00", "end": "06:00:00", "grace_minutes": 5}]
        }
    )

    name: Text = Field(min_length=1, max_length=100)
    start: dt.time
    end: dt.time
    grace_minutes: int = Minutes
    flexible_minutes: int = Minutes


class ShiftOut(Out):
    id: int
    name: str
    start: dt.time
    end: dt.time
    grace_minutes: int
    flexible_minutes: int


class AssignmentIn(BaseModel):
    """A member's or a department's shift: exactly one of ``member_id`` and ``department_id``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"shift_id": 1, "member_id": 1}]})

    shift_id: Id
    member_id: Id | None = None
    department_id: Id | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.member_id is None) == (self.department_id is None):
            raise ValueError("give exactly one of member_id and department_id")
        return self


class AssignmentOut(Out):
    id: int
    shift_id: int
    member_id: int | None
    department_id: int | None


class LeaveIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"member_id": 1, "first_day": "2026-11-16", "last_day": "2026-11-17", "reason": "sick"}
            ]
        }
    )

    member_id: Id
    first_day: dt.date
    last_day: dt.date
    reason: Text = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last_day < self.first_day:
            raise ValueError("last_day: must not be before first_day")
        if (self.last_day - self.first_day).days > 366:
            raise ValueError("last_day: leave spans at most a year per record")
        return self


class LeaveOut(Out):
    id: int
    member_id: int
    first_day: dt.date
    last_day: dt.date
    reason: str


@router.post(
    "/attendance/calendar/import",
    openapi_extra=_IMPORT_BODY,
    responses={413: {"description": "file too large"}, 415: {"description": "not text/csv or JSON"}},
)
async def import_calendar(request: Request, session: SessionDep, principal: OrgAdmin) -> CalendarImportOut:
    """Import holidays and make-up work days (CSV ``date,kind,name``, or JSON with ``work_weekdays``
    and ``days``). Every bad row is reported by number and field; nothing is stored unless all are good."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "application/json"):
        raise problem(415, "send the calendar as text/csv or application/json")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FILE_BYTES:
            raise problem(413, f"the calendar file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = body.decode("utf-8-sig")
        parse = calendar_import.parse_csv if content_type == "text/csv" else calendar_import.parse_json
        parsed = parse(text)
    except UnicodeDecodeError:
        raise problem(422, "the calendar file is not UTF-8") from None
    except calendar_import.CalendarFileError as exc:
        errors = [{"loc": ["row", e.row, e.field], "msg": e.message} for e in exc.errors]
        raise RequestValidationError(errors) from None
    written = await calendar_import.store(session, principal.org_id, parsed)
    detail = {"days": written, "work_weekdays": parsed.work_weekdays}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "calendar.import", "calendar:*", detail
    )
    await session.commit()
    return CalendarImportOut(days_written=written, work_weekdays=parsed.work_weekdays)


@router.get("/attendance/calendar")
async def get_calendar(
    session: ReadSessionDep, principal: Viewer, year: int = Query(ge=2000, le=2100)
) -> CalendarOut:
    """The work week and the year's holidays and make-up work days (no calendar: every day works)."""
    week = await session.get(WorkCalendar, principal.org_id)
    days = await calendar_import.calendar_days(session, principal.org_id, year)
    return CalendarOut(
        work_weekdays=list(range(1, 8)) if week is None else week.work_weekdays,
        days=[CalendarDayOut.model_validate(d) for d in days],
    )


@router.post("/attendance/shifts", status_code=201)
async def create_shift(body: ShiftIn, session: SessionDep, principal: OrgAdmin) -> ShiftOut:
    """A shift; an end at or before the start crosses midnight."""
    taken = select(Shift.id).where(Shift.org_id == principal.org_id, Shift.name == body.name)
    if (await session.execute(taken)).first():
        raise problem(409, f"a shift named {body.name!r} exists already")
    shift = Shift(org_id=principal.org_id, **body.model_dump())
    session.add(shift)
    await session.flush()
    target = f"shift:{shift.id}"
    await audit_log.record(
        session, principal.org_id, principal.actor(), "shift.create", target, body.model_dump(mode="json")
    )
    await session.commit()
    return ShiftOut.model_validate(shift)


@router.get("/attendance/shifts")
async def list_shifts(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[ShiftOut]:
    query = select(Shift).where(Shift.org_id == principal.org_id).order_by(Shift.id)
    return [ShiftOut.model_validate(s) for s in await page_of(session, query, page)]


@router.put("/attendance/shift-assignments")
async def assign_shift(body: AssignmentIn, session: SessionDep, principal: OrgAdmin) -> AssignmentOut:
    """Give a member or a department a shift (replacing the one it had)."""
    org_id = principal.org_id
    await owned(session, Shift, body.shift_id, org_id, "shift")
    if body.member_id is not None:
        await owned(session, Member, body.member_id, org_id, "member")
        same = ShiftAssignment.member_id == body.member_id
    else:
        assert body.department_id is not None
        await owned(session, Department, body.department_id, org_id, "department")
        same = ShiftAssignment.department_id == body.department_id
    await session.execute(delete(ShiftAssignment).where(ShiftAssignment.org_id == org_id, same))
    assignment = ShiftAssignment(org_id=org_id, **body.model_dump())
    session.add(assignment)
    await session.flush()
    target = f"shift_assignment:{assignment.id}"
    await audit_log.record(session, org_id, principal.actor(), "shift.assign", target, body.model_dump())
    await session.commit()
    return AssignmentOut.model_validate(assignment)


@router.get("/attendance/shift-assignments")
async def list_assignments(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[AssignmentOut]:
    query = select(ShiftAssignment).where(ShiftAssignment.org_id == principal.org_id)
    return [
        AssignmentOut.model_validate(a)
        for a in await page_of(session, query.order_by(ShiftAssignment.id), page)
    ]


@router.post("/attendance/leaves", status_code=201)
async def record_leave(body: LeaveIn, session: SessionDep, principal: Manager) -> LeaveOut:
    """Approved leave: closing a day records no absence for the member on those days."""
    await owned(session, Member, body.member_id, principal.org_id, "member")
    leave = LeaveRecord(org_id=principal.org_id, **body.model_dump())
    session.add(leave)
    await session.flush()
    target = f"leave:{leave.id}"
    await audit_log.record(
        session, principal.org_id, principal.actor(), "leave.record", target, body.model_dump(mode="json")
    )
    await session.commit()
    return LeaveOut.model_validate(leave)


@router.get("/attendance/leaves")
async def list_leaves(
    session: ReadSessionDep, principal: Viewer, page: PageDep, member_id: QueryId = None
) -> list[LeaveOut]:
    """Leave records, newest first, optionally of one member."""
    query = select(LeaveRecord).where(LeaveRecord.org_id == principal.org_id)
    if member_id is not None:
        query = query.where(LeaveRecord.member_id == member_id)
    return [
        LeaveOut.model_validate(r)
        for r in await page_of(session, query.order_by(LeaveRecord.id.desc()), page)
    ]
