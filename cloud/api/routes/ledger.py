"""Ledger entries: award or deduct (idempotent by the ``Idempotency-Key`` header), list by member/month.

Idempotency: the same key with the same request answers the entry recorded first (200); the same
key with a different request is a conflict (409). Keys are namespaced (``manual:``) so they never
collide with the keys the system makes for attendance.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cloud.api.deps import Manager, PageDep, PublisherDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of, point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas import LedgerEntryIn, LedgerEntryOut
from cloud.db.models import EntrySource, LedgerEntry, Member, Organisation, PointRule
from cloud.domain import ledger
from cloud.domain.periods import today

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
    """Award (points > 0) or deduct (points < 0) points for a member."""
    new = await _new_entry(session, principal.org_id, body, f"manual:{key}")
    earlier = await ledger.find_by_key(session, principal.org_id, new.idempotency_key)
    if earlier is None:
        try:
            entry = await ledger.record_entry(session, new)
            await session.commit()
        except IntegrityError:  # the same key raced in: answer the winner
            await session.rollback()
            earlier = await ledger.find_by_key(session, principal.org_id, new.idempotency_key)
        else:
            if publisher is not None:
                publisher.changed(principal.org_id)
            return LedgerEntryOut.model_validate(entry)
    return _replay(earlier, new, response)


@router.get("")
async def list_entries(
    session: SessionDep, principal: Viewer, page: PageDep, member_id: int | None = None, month: Month = None
) -> list[LedgerEntryOut]:
    """Entries of the organisation, newest first, optionally of one member and one month."""
    query = select(LedgerEntry).where(LedgerEntry.org_id == principal.org_id)
    if member_id is not None:
        query = query.where(LedgerEntry.member_id == member_id)
    if month is not None:
        first = dt.date.fromisoformat(f"{month}-01")
        after = (first + dt.timedelta(days=32)).replace(day=1)
        query = query.where(LedgerEntry.effective_date >= first, LedgerEntry.effective_date < after)
    query = query.order_by(LedgerEntry.id.desc())
    return [LedgerEntryOut.model_validate(e) for e in await page_of(session, query, page)]


async def _new_entry(session: SessionDep, org_id: int, body: LedgerEntryIn, key: str) -> ledger.NewEntry:
    await owned(session, Member, body.member_id, org_id, "member")
    point_type = await point_type_by_code(session, body.point_type, org_id)
    points = body.points
    if body.rule_id is not None:
        rule = await owned(session, PointRule, body.rule_id, org_id, "rule")
        points = rule.points if points is None else points
        _check_bounds(rule, points)
    if not points:
        raise problem(422, "points must be a non-zero integer (or come from a rule)")
    org = await session.get_one(Organisation, org_id)
    return ledger.NewEntry(
        org_id=org_id,
        member_id=body.member_id,
        point_type_id=point_type.id,
        points=points,
        source=EntrySource.MANUAL,
        effective_date=body.effective_date or today(org.time_zone),
        idempotency_key=key,
        rule_id=body.rule_id,
        reason=body.reason,
    )


def _check_bounds(rule: PointRule, points: int) -> None:
    if rule.min_points is not None and points < rule.min_points:
        raise problem(422, f"rule {rule.id} allows at least {rule.min_points} points, got {points}")
    if rule.max_points is not None and points > rule.max_points:
        raise problem(422, f"rule {rule.id} allows at most {rule.max_points} points, got {points}")


def _replay(earlier: LedgerEntry | None, new: ledger.NewEntry, response: Response) -> LedgerEntryOut:
    if earlier is None:
        raise problem(409, "the Idempotency-Key is in use by a request still in progress")
    same = (earlier.member_id, earlier.point_type_id, earlier.points, earlier.rule_id) == (
        new.member_id,
        new.point_type_id,
        new.points,
        new.rule_id,
    )
    if not same:
        raise problem(409, "this Idempotency-Key was already used for a different entry")
    response.status_code = 200
    return LedgerEntryOut.model_validate(earlier)
