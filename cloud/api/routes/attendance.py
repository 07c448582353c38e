"""Attendance rules (create, list) and punches as received (list)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, QueryId, SessionDep, Viewer
from cloud.api.lookups import agent_by_id, owned, page_of
from cloud.api.schemas import AttendanceRuleIn, AttendanceRuleOut, PunchOut
from cloud.db.models import AttendancePunch, AttendanceRule, PointRule
from cloud.domain import audit_log

router = APIRouter(tags=["attendance"])


@router.post("/attendance-rules", status_code=201)
async def create_attendance_rule(
    body: AttendanceRuleIn, session: SessionDep, principal: OrgAdmin
) -> AttendanceRuleOut:
    """Set the shift start and the rules for on-time and late (the newest rule applies)."""
    await owned(session, PointRule, body.on_time_rule_id, principal.org_id, "rule")
    await owned(session, PointRule, body.late_rule_id, principal.org_id, "rule")
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
    session: SessionDep, principal: Viewer, page: PageDep
) -> list[AttendanceRuleOut]:
    """The organisation's attendance rules."""
    query = (
        select(AttendanceRule).where(AttendanceRule.org_id == principal.org_id).order_by(AttendanceRule.id)
    )
    return [AttendanceRuleOut.model_validate(r) for r in await page_of(session, query, page)]


@router.get("/punches")
async def list_punches(
    session: SessionDep,
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
