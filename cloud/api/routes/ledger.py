"""Ledger entries: award or deduct for one member (an event of one), list, revoke, appeal.

Idempotency: the same ``Idempotency-Key`` with the same request answers what was recorded first
(200); with a different request it is a conflict (409). Keys are namespaced (``manual:``) so they
never collide with the keys the system makes for attendance.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import select

from cloud.api.deps import Manager, PageDep, PathId, PublisherDep, QueryId, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.schemas import LedgerEntryIn, LedgerEntryOut
from cloud.api.schemas_ledger import AppealIn, AppealOut, LedgerEventIn, RevocationIn
from cloud.api.submissions import submit_event, workflow_call
from cloud.db.models import EntrySource, LedgerEntry, Member
from cloud.domain import audit_log, workflow
from cloud.domain.departments import subtree

router = APIRouter(prefix="/ledger-entries", tags=["ledger"])

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=150)]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


@router.post("", status_code=201)
async def create_entry(
    body: LedgerEntryIn,
    key: IdempotencyKey,
    session: SessionDep,
    principal: Manager,
    publisher: PublisherDep,
    response: Response,
) -> LedgerEntryOut:
    """Award (points > 0) or deduct (points < 0) points for one member (pending if beyond authority)."""
    event_body = LedgerEventIn(
        member_ids=[body.member_id],
        point_type=body.point_type,
        points=body.points,
        rule_id=body.rule_id,
        reason=body.reason,
        effective_date=body.effective_date,
    )
    event, created = await submit_event(session, principal, event_body, f"manual:{key}", publisher)
    if not created:
        response.status_code = 200
    entry = (await workflow.entries_of(session, event))[0]
    return LedgerEntryOut.model_validate(entry)


@router.get("")
async def list_entries(
    session: ReadSessionDep,
    principal: Viewer,
    page: PageDep,
    member_id: QueryId = None,
    department_id: QueryId = None,
    month: Month = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str | None = None,
    source: EntrySource | None = None,
) -> list[LedgerEntryOut]:
    """Entries of the organisation, newest first; filter by member, department (subtree), period, status."""
    query = select(LedgerEntry).where(LedgerEntry.org_id == principal.org_id)
    if member_id is not None:
        query = query.where(LedgerEntry.member_id == member_id)
    if department_id is not None:
        departments = await subtree(session, principal.org_id, department_id)
        in_departments = select(Member.id).where(Member.department_id.in_(departments))
        query = query.where(LedgerEntry.member_id.in_(in_departments))
    if month is not None:
        date_from = dt.date.fromisoformat(f"{month}-01")
        date_to = (date_from + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    if date_from is not None:
        query = query.where(LedgerEntry.effective_date >= date_from)
    if date_to is not None:
        query = query.where(LedgerEntry.effective_date <= date_to)
    if status is not None:
        query = query.where(LedgerEntry.status == status)
    if source is not None:  # e.g. source=attendance: the generated entries, to review
        query = query.where(LedgerEntry.source == source.value)
    query = query.order_by(LedgerEntry.id.desc())
    return [LedgerEntryOut.model_validate(e) for e in await page_of(session, query, page)]


@router.post("/{entry_id}/revoke", status_code=201)
async def revoke_entry(
    entry_id: PathId, body: RevocationIn, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> LedgerEntryOut:
    """Cancel an approved entry with a compensating entry (the original stays, append-only)."""
    entry = await owned(session, LedgerEntry, entry_id, principal.org_id, "ledger entry")
    compensation = await workflow_call(workflow.revoke(session, entry, principal.person(), body.reason))
    detail = {"compensation_id": compensation.id, "points": compensation.points, "reason": body.reason}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "ledger.revoke", f"ledger_entry:{entry.id}", detail
    )
    await session.commit()
    if publisher is not None:
        publisher.changed(principal.org_id)
    return LedgerEntryOut.model_validate(compensation)


@router.post("/{entry_id}/appeals", status_code=201)
async def appeal_entry(
    entry_id: PathId, body: AppealIn, session: SessionDep, principal: Manager
) -> AppealOut:
    """Record a member's appeal against an approved entry (decided by ``POST /appeals/{id}/decide``)."""
    entry = await owned(session, LedgerEntry, entry_id, principal.org_id, "ledger entry")
    appeal = await workflow_call(workflow.file_appeal(session, entry, body.reason))
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "appeal.file",
        f"ledger_entry:{entry.id}",
        {"appeal_id": appeal.id, "reason": body.reason},
    )
    await session.commit()
    return AppealOut.model_validate(appeal)
