"""Shared by the ledger routes: turn a request into a workflow submission, idempotently, audited."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import Principal
from cloud.api.lookups import owned, point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas_ledger import LedgerEventIn
from cloud.db.models import EntrySource, EntryStatus, LedgerEvent, Member, Organisation, PointRule
from cloud.displays.publisher import DisplayPublisher
from cloud.domain import audit_log, workflow
from cloud.domain.periods import today

_T = TypeVar("_T")


async def workflow_call(call: Awaitable[_T]) -> _T:
    """Await a workflow step, answering its refusals as problems (403, 409, 422)."""
    try:
        return await call
    except workflow.WorkflowError as exc:
        raise problem(exc.refusal.value, str(exc)) from None


async def submit_event(
    session: AsyncSession,
    principal: Principal,
    body: LedgerEventIn,
    key: str,
    publisher: DisplayPublisher | None,
) -> tuple[LedgerEvent, bool]:
    """The event for ``key``: recorded now (True) or earlier by the same request (False)."""
    sub = await _submission(session, principal, body, key)
    earlier = await _event_by_key(session, principal.org_id, key)
    if earlier is not None:
        return await _replay(session, earlier, sub), False
    event = await workflow_call(workflow.submit(session, sub, principal.person()))
    detail = {"points": sub.points, "member_ids": list(sub.member_ids), "status": event.status}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "ledger.submit", f"ledger_event:{event.id}", detail
    )
    try:
        await session.commit()
    except IntegrityError:  # the same key raced in: answer the winner
        await session.rollback()
        winner = await _event_by_key(session, principal.org_id, key)
        if winner is None:
            raise problem(409, "the Idempotency-Key is in use by a request still in progress") from None
        return await _replay(session, winner, sub), False
    if publisher is not None and event.status == EntryStatus.APPROVED:
        publisher.changed(principal.org_id)
    return event, True


async def _submission(
    session: AsyncSession, principal: Principal, body: LedgerEventIn, key: str
) -> workflow.Submission:
    for member_id in body.member_ids:
        await owned(session, Member, member_id, principal.org_id, "member")
    point_type = await point_type_by_code(session, body.point_type, principal.org_id)
    rule = None
    if body.rule_id is not None:
        rule = await owned(session, PointRule, body.rule_id, principal.org_id, "rule")
        if rule.point_type_id != point_type.id:
            raise problem(422, f"rule {rule.id} is for another point type than {body.point_type!r}")
    points = body.points if body.points is not None else (rule.points if rule is not None else 0)
    org = await session.get_one(Organisation, principal.org_id)
    return workflow.Submission(
        org_id=principal.org_id,
        member_ids=tuple(body.member_ids),
        point_type_id=point_type.id,
        points=points,
        rule=rule,
        reason=body.reason,
        source=EntrySource.MANUAL,
        effective_date=body.effective_date or today(org.time_zone),
        idempotency_key=key,
    )


async def _event_by_key(session: AsyncSession, org_id: int, key: str) -> LedgerEvent | None:
    query = select(LedgerEvent).where(LedgerEvent.org_id == org_id, LedgerEvent.idempotency_key == key)
    return (await session.execute(query)).scalar_one_or_none()


async def _replay(session: AsyncSession, earlier: LedgerEvent, sub: workflow.Submission) -> LedgerEvent:
    rule_id = None if sub.rule is None else sub.rule.id
    members = {e.member_id for e in await workflow.entries_of(session, earlier)}
    same = (earlier.point_type_id, earlier.points, earlier.rule_id, members) == (
        sub.point_type_id,
        sub.points,
        rule_id,
        set(sub.member_ids),
    )
    if not same:
        raise problem(409, "this Idempotency-Key was already used for a different entry")
    return earlier
