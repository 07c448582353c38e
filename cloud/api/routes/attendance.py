"""Attendance rules (create, list), punches as received (list), corrections (补卡) and day closing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cloud.api.deps import (
    Manager,
    OrgAdmin,
    PageDep,
    PublisherDep,
    QueryId,
    ReadSessionDep,
    SessionDep,
    Viewer,
)
from cloud.api.lookups import agent_by_id, owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas import (
    AttendanceRuleIn,
    AttendanceRuleOut,
    EarlyLeaveBand,
    Id,
    LateBand,
    Out,
    PunchOut,
    Text,
)
from cloud.db.base import utc_now
from cloud.db.models import (
    AttendanceCorrection,
    AttendancePunch,
    AttendanceRule,
    Member,
    Organisation,
    PointRule,
)
from cloud.domain import attendance, attendance_completeness, attendance_days, audit_log

router = APIRouter(tags=["attendance"])


@router.post("/attendance-rules", status_code=201)
async def create_attendance_rule(
    body: AttendanceRuleIn, session: SessionDep, principal: OrgAdmin
) -> AttendanceRuleOut:
    """Set the shift start and the rules for on-time and late (the newest rule applies).

    Late bands pick a rule by minutes late; closing a day applies ``absence_rule_id`` and, with a
    ``shift_end``, the early-leave rule (bands by minutes early); closing a month the full-attendance
    rule."""
    bands: list[LateBand | EarlyLeaveBand] = [*body.late_bands, *body.early_leave_bands]
    optional = (body.absence_rule_id, body.early_leave_rule_id, body.full_attendance_rule_id)
    rule_ids = [body.on_time_rule_id, body.late_rule_id, *(b.rule_id for b in bands)]
    for rule_id in [*rule_ids, *(r for r in optional if r is not None)]:
        await owned(session, PointRule, rule_id, principal.org_id, "rule")
    rule = AttendanceRule(org_id=principal.org_id, **body.model_dump())
    session.add(rule)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "attendance_rule.create",
        f"attendance_rule:{rule.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return AttendanceRuleOut.model_validate(rule)


@router.get("/attendance-rules")
async def list_attendance_rules(
    session: ReadSessionDep, principal: Viewer, page: PageDep
) -> list[AttendanceRuleOut]:
    """The organisation's attendance rules."""
    query = (
        select(AttendanceRule).where(AttendanceRule.org_id == principal.org_id).order_by(AttendanceRule.id)
    )
    return [AttendanceRuleOut.model_validate(r) for r in await page_of(session, query, page)]


@router.get("/punches")
async def list_punches(
    session: ReadSessionDep,
    principal: Viewer,
    page: PageDep,
    member_id: QueryId = None,
    agent_id: str | None = None,
) -> list[PunchOut]:
    """Punches of the organisation, newest first, optionally of one member or one agent."""
    query = select(AttendancePunch).where(AttendancePunch.org_id == principal.org_id)
    if member_id is not None:
        query = query.where(AttendancePunch.member_id == member_id)
    if agent_id is not None:
        agent = await agent_by_id(session, agent_id, principal.org_id)
        query = query.where(AttendancePunch.agent_pk == agent.id)
    query = query.order_by(AttendancePunch.occurred_at.desc(), AttendancePunch.id.desc())
    return [PunchOut.model_validate(p) for p in await page_of(session, query, page)]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"member_id": 1, "day": "2026-11-09", "reason": "badge forgotten, confirmed by the team lead"}
            ]
        }
    )

    member_id: Id
    day: dt.date
    reason: Text = Field(min_length=1, max_length=2000, examples=["badge forgotten, seen by the team lead"])


class CorrectionOut(Out):
    id: int
    member_id: int
    day: dt.date
    reason: str
    created_at: dt.datetime


class CorrectionResultOut(BaseModel):
    correction: CorrectionOut
    revoked_entry_ids: list[int]
    awarded_entry_id: int


class DayClosingIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"day": "2026-11-09"}]})

    day: dt.date


class DayClosingOut(BaseModel):
    day: dt.date
    absences_recorded: int
    early_leaves_recorded: int
    work_day: bool  # False: a holiday or rest day in the calendar, nothing is recorded


class MonthClosingIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2026, "month": 10}]})

    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)


class MonthClosingOut(BaseModel):
    year: int
    month: int
    full_attendance_awarded: int


@router.post("/attendance/corrections", status_code=201)
async def correct_attendance(
    body: CorrectionIn, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> CorrectionResultOut:
    """A correction (补卡): the day's lateness or absence is revoked and the on-time rule awarded."""
    await owned(session, Member, body.member_id, principal.org_id, "member")
    try:
        done = await attendance_days.correct(
            session, principal.org_id, body.member_id, body.day, body.reason, principal.token_id
        )
    except attendance_days.AttendanceError as exc:
        raise problem(409, str(exc)) from None
    detail = {"member_id": body.member_id, "day": body.day.isoformat(), "reason": body.reason}
    target = f"attendance_correction:{done.correction.id}"
    await audit_log.record(session, principal.org_id, principal.actor(), "attendance.correct", target, detail)
    await session.commit()
    if publisher is not None:
        publisher.changed(principal.org_id)
    return CorrectionResultOut(
        correction=CorrectionOut.model_validate(done.correction),
        revoked_entry_ids=[e.revokes_id for e in done.revoked if e.revokes_id is not None],
        awarded_entry_id=done.awarded.id,
    )


@router.get("/attendance/corrections")
async def list_corrections(
    session: ReadSessionDep, principal: Viewer, page: PageDep, member_id: QueryId = None
) -> list[CorrectionOut]:
    """Corrections, newest first, optionally of one member."""
    query = select(AttendanceCorrection).where(AttendanceCorrection.org_id == principal.org_id)
    if member_id is not None:
        query = query.where(AttendanceCorrection.member_id == member_id)
    rows = await page_of(session, query.order_by(AttendanceCorrection.id.desc()), page)
    return [CorrectionOut.model_validate(c) for c in rows]


@router.post("/attendance/day-closings")
async def close_day(
    body: DayClosingIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> DayClosingOut:
    """Close a working day: active members with no check-in get the absence rule, members whose last
    check-out was before the shift end the early-leave rule (idempotent)."""
    org = await session.get_one(Organisation, principal.org_id)
    try:
        done = await attendance_days.close_day(session, principal.org_id, body.day, org.time_zone)
    except attendance_days.AttendanceError as exc:
        raise problem(409, str(exc)) from None
    detail = {"day": body.day.isoformat(), "absences": done.absences, "early_leaves": done.early_leaves}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "attendance.close_day", "attendance:*", detail
    )
    await session.commit()
    if publisher is not None and (done.absences or done.early_leaves):
        publisher.changed(principal.org_id)
    return DayClosingOut(
        day=body.day,
        absences_recorded=done.absences,
        early_leaves_recorded=done.early_leaves,
        work_day=done.work_day,
    )


@router.post("/attendance/month-closings")
async def close_month(
    body: MonthClosingIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> MonthClosingOut:
    """Close an ended month: members with no lateness, absence or early leave in it get the
    full-attendance rule (idempotent)."""
    org = await session.get_one(Organisation, principal.org_id)
    rule = await attendance.current_rule(session, principal.org_id)
    if rule is None:
        raise problem(409, "the organisation has no attendance rule")
    today = utc_now().astimezone(ZoneInfo(org.time_zone)).date()
    try:
        count = await attendance_completeness.close_month(session, rule, body.year, body.month, today)
    except attendance_completeness.CompletenessError as exc:
        raise problem(409, str(exc)) from None
    detail = {"year": body.year, "month": body.month, "awarded": count}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "attendance.close_month", "attendance:*", detail
    )
    await session.commit()
    if publisher is not None and count:
        publisher.changed(principal.org_id)
    return MonthClosingOut(year=body.year, month=body.month, full_attendance_awarded=count)
