"""Data-subject requests (access, correction, erasure) under ``/roster``: an erasure reaches every device
and sign and stays open until every device is verified; every request is due 30 days after it was made."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import OrgAdmin, PageDep, PathId, PublisherDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.problems import not_found, problem
from cloud.api.schemas_roster import ErasureIn, ProgressOut, RequestIn, RequestOut
from cloud.db.models import Member, PrivacyRequest, RequestKind, RequestState
from cloud.domain import audit_log
from cloud.roster import close, open_request, progress, request_erasure
from cloud.roster.intake import take_receipts
from cloud.roster.notify import wake

router = APIRouter(prefix="/roster", tags=["roster"])


async def _request_out(session: AsyncSession, request: PrivacyRequest) -> RequestOut:
    devices = await progress(session, request.member_id) if request.kind == RequestKind.ERASURE else []
    return RequestOut(
        id=request.id,
        member_id=request.member_id,
        kind=request.kind,
        reason=request.reason,
        state=request.state,
        created_at=request.created_at,
        due_at=request.due_at,
        closed_at=request.closed_at,
        devices=[
            ProgressOut(agent_id=d.agent_id, device=d.device, state=d.state, reason=d.reason) for d in devices
        ],
    )


@router.post("/erasures", status_code=201)
async def erase_members(
    body: ErasureIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> list[RequestOut]:
    """Erase members everywhere (DEL-1): wiped in the cloud, deleted from every terminal, off the signs
    at once; each request stays open until every device is verified (due in 30 days)."""
    for member_id in set(body.member_ids):
        await owned(session, Member, member_id, principal.org_id, "member")
    requests = await request_erasure(session, principal.org_id, body.member_ids, body.reason)
    for request in requests:
        target = f"member:{request.member_id}"
        await audit_log.record(session, principal.org_id, principal.actor(), "member.erase", target)
    out = [await _request_out(session, r) for r in requests]
    await session.commit()
    wake(publisher, principal.org_id, signs=True)
    return out


@router.post("/requests", status_code=201)
async def make_request(body: RequestIn, session: SessionDep, principal: OrgAdmin) -> RequestOut:
    """Record an access or correction request (answered within 30 days)."""
    await owned(session, Member, body.member_id, principal.org_id, "member")
    request = open_request(session, principal.org_id, body.member_id, RequestKind(body.kind), body.reason)
    await session.flush()
    target = f"member:{body.member_id}"
    await audit_log.record(session, principal.org_id, principal.actor(), f"request.{body.kind}", target)
    out = await _request_out(session, request)
    await session.commit()
    return out


@router.get("/requests")
async def list_requests(session: SessionDep, principal: Viewer, page: PageDep) -> list[RequestOut]:
    """The organisation's data-subject requests, newest first, erasures with every device's state."""
    await take_receipts(session, principal.org_id)
    query = select(PrivacyRequest).where(PrivacyRequest.org_id == principal.org_id)
    requests = await page_of(session, query.order_by(PrivacyRequest.id.desc()), page)
    out = [await _request_out(session, r) for r in requests]
    await session.commit()
    return out


@router.get("/requests/{request_id}")
async def get_request(request_id: PathId, session: SessionDep, principal: Viewer) -> RequestOut:
    """One request: open or closed, its deadline, and for an erasure every device pending or verified."""
    await take_receipts(session, principal.org_id)
    request = await session.get(PrivacyRequest, request_id)
    if request is None or request.org_id != principal.org_id:
        raise not_found("request", request_id)
    out = await _request_out(session, request)
    await session.commit()
    return out


@router.post("/requests/{request_id}/close")
async def close_request(request_id: PathId, session: SessionDep, principal: OrgAdmin) -> RequestOut:
    """Mark an access or correction request answered; an erasure closes itself once every device is
    verified (409 here)."""
    request = await session.get(PrivacyRequest, request_id)
    if request is None or request.org_id != principal.org_id:
        raise not_found("request", request_id)
    if request.kind == RequestKind.ERASURE:
        raise problem(409, "an erasure closes itself once every device is verified")
    if request.state == RequestState.CLOSED:
        raise problem(409, f"request {request_id} was already closed")
    close(request)
    target = f"member:{request.member_id}"
    await audit_log.record(
        session, principal.org_id, principal.actor(), f"request.{request.kind}.close", target
    )
    out = await _request_out(session, request)
    await session.commit()
    return out
