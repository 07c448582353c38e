"""The award workflow: events for one or many members, approve / reject, appeals, authority limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import (
    Manager,
    OrgAdmin,
    PageDep,
    PathId,
    PublisherDep,
    ReadSessionDep,
    SessionDep,
    Viewer,
)
from cloud.api.lookups import owned, page_of, point_type_by_code
from cloud.api.schemas_ledger import (
    AppealDecisionIn,
    AppealOut,
    AuthorityLimitIn,
    AuthorityLimitOut,
    DecisionIn,
    LedgerEventIn,
    LedgerEventOut,
)
from cloud.api.submissions import submit_event, workflow_call
from cloud.db.models import Appeal, AuthorityLimit, EntryStatus, LedgerEvent, Member
from cloud.domain import audit_log, workflow

router = APIRouter(tags=["workflow"])

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=150)]


async def _event_out(session: AsyncSession, event: LedgerEvent) -> LedgerEventOut:
    members = [e.member_id for e in await workflow.entries_of(session, event)]
    fields = {k: getattr(event, k) for k in LedgerEventOut.model_fields if k != "member_ids"}
    return LedgerEventOut(member_ids=members, **fields)


@router.post("/ledger-events", status_code=201)
async def create_event(
    body: LedgerEventIn,
    key: IdempotencyKey,
    session: SessionDep,
    principal: Manager,
    publisher: PublisherDep,
    response: Response,
) -> LedgerEventOut:
    """Award or deduct the same points for one or many members; pending when beyond your authority."""
    event, created = await submit_event(session, principal, body, f"manual:{key}", publisher)
    if not created:
        response.status_code = 200
    return await _event_out(session, event)


@router.get("/ledger-events")
async def list_events(
    session: ReadSessionDep, principal: Viewer, page: PageDep, status: EntryStatus | None = None
) -> list[LedgerEventOut]:
    """Events, newest first; ``status=pending`` is the approval queue."""
    query = select(LedgerEvent).where(LedgerEvent.org_id == principal.org_id)
    if status is not None:
        query = query.where(LedgerEvent.status == status.value)
    events = await page_of(session, query.order_by(LedgerEvent.id.desc()), page)
    return [await _event_out(session, e) for e in events]


@router.get("/ledger-events/{event_id}")
async def get_event(event_id: PathId, session: ReadSessionDep, principal: Viewer) -> LedgerEventOut:
    """One event with its members."""
    return await _event_out(session, await owned(session, LedgerEvent, event_id, principal.org_id, "event"))


@router.post("/ledger-events/{event_id}/approve")
async def approve_event(
    event_id: PathId, body: DecisionIn, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> LedgerEventOut:
    """Approve a pending event: its points count from now on."""
    event = await owned(session, LedgerEvent, event_id, principal.org_id, "event")
    await workflow_call(workflow.approve(session, event, principal.person(), body.comment))
    await _audit(session, principal.org_id, principal, "ledger.approve", event, body.comment)
    if publisher is not None:
        publisher.changed(principal.org_id)
    return await _event_out(session, event)


@router.post("/ledger-events/{event_id}/reject")
async def reject_event(
    event_id: PathId, body: DecisionIn, session: SessionDep, principal: Manager
) -> LedgerEventOut:
    """Reject a pending event: its points never count."""
    event = await owned(session, LedgerEvent, event_id, principal.org_id, "event")
    await workflow_call(workflow.reject(session, event, principal.person(), body.comment))
    await _audit(session, principal.org_id, principal, "ledger.reject", event, body.comment)
    return await _event_out(session, event)


async def _audit(
    session: AsyncSession,
    org_id: int,
    principal: Manager,
    action: str,
    event: LedgerEvent,
    comment: str | None,
) -> None:
    target = f"ledger_event:{event.id}"
    await audit_log.record(session, org_id, principal.actor(), action, target, {"comment": comment})
    await session.commit()


@router.get("/appeals")
async def list_appeals(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[AppealOut]:
    """Appeals, newest first."""
    query = select(Appeal).where(Appeal.org_id == principal.org_id).order_by(Appeal.id.desc())
    return [AppealOut.model_validate(a) for a in await page_of(session, query, page)]


@router.post("/appeals/{appeal_id}/decide")
async def decide_appeal(
    appeal_id: PathId,
    body: AppealDecisionIn,
    session: SessionDep,
    principal: Manager,
    publisher: PublisherDep,
) -> AppealOut:
    """Uphold (a compensating entry cancels the points) or deny an appeal."""
    appeal = await owned(session, Appeal, appeal_id, principal.org_id, "appeal")
    await workflow_call(
        workflow.decide_appeal(session, appeal, principal.person(), body.upheld, body.comment)
    )
    detail = {"upheld": body.upheld, "comment": body.comment, "compensation_id": appeal.compensation_id}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "appeal.decide", f"appeal:{appeal.id}", detail
    )
    await session.commit()
    if publisher is not None and body.upheld:
        publisher.changed(principal.org_id)
    return AppealOut.model_validate(appeal)


@router.post("/authority-limits", status_code=201)
async def set_authority_limit(
    body: AuthorityLimitIn, session: SessionDep, principal: OrgAdmin
) -> AuthorityLimitOut:
    """Set (create or replace) how many points a manager may move per member and event."""
    await owned(session, Member, body.manager_member_id, principal.org_id, "member")
    point_type = await point_type_by_code(session, body.point_type, principal.org_id)
    query = select(AuthorityLimit).where(
        AuthorityLimit.org_id == principal.org_id,
        AuthorityLimit.manager_member_id == body.manager_member_id,
        AuthorityLimit.point_type_id == point_type.id,
    )
    limit = (await session.execute(query)).scalar_one_or_none()
    if limit is None:
        limit = AuthorityLimit(
            org_id=principal.org_id,
            manager_member_id=body.manager_member_id,
            point_type_id=point_type.id,
            max_points=body.max_points,
        )
        session.add(limit)
    limit.max_points = body.max_points
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "authority.set",
        f"authority_limit:{limit.id}",
        body.model_dump(),
    )
    await session.commit()
    return AuthorityLimitOut.model_validate(limit)


@router.get("/authority-limits")
async def list_authority_limits(
    session: ReadSessionDep, principal: Viewer, page: PageDep
) -> list[AuthorityLimitOut]:
    """Every manager's authority limits."""
    query = (
        select(AuthorityLimit).where(AuthorityLimit.org_id == principal.org_id).order_by(AuthorityLimit.id)
    )
    return [AuthorityLimitOut.model_validate(a) for a in await page_of(session, query, page)]


@router.delete("/authority-limits/{limit_id}", status_code=204)
async def delete_authority_limit(limit_id: PathId, session: SessionDep, principal: OrgAdmin) -> None:
    """Withdraw an authority limit (the manager then needs approval for every award of that type)."""
    limit = await owned(session, AuthorityLimit, limit_id, principal.org_id, "authority limit")
    await session.delete(limit)
    await audit_log.record(
        session, principal.org_id, principal.actor(), "authority.delete", f"authority_limit:{limit_id}"
    )
    await session.commit()
