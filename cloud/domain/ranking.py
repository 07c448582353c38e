"""Rankings read from the balance index: a period × scope (organisation or department subtree) × type.

Standard competition ranking ("1224"): a member's rank is 1 + the number of members in the scope
with more points, so equal points share a rank and the next rank skips. Tie-break for listing
order: display name, then member id. A red list is the top of the ranking; a black list is its
bottom, worst first (the ranking's order reversed). Only members with a balance row for the period
take part (members with no entries in it are not ranked); erased members never appear.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, UnaryExpression, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import Balance, Consent, ConsentKind, Member, MemberStatus
from cloud.domain.members import minor_clause


class Order(enum.StrEnum):
    TOP = "top"  # red list: best first
    BOTTOM = "bottom"  # black list: worst first


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RankedMember:
    rank: int
    member_id: int
    display_name: str
    points: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Scope:
    """Which balances compete: one organisation's, one type, one period, optionally some departments."""

    org_id: int
    point_type_id: int
    period_kind: str
    period_key: str
    department_ids: Collection[int] | None = None  # None: the whole organisation
    public_only: bool = False  # only members whose newest public-display consent is a grant (DISP-2)


def _conditions(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [
        Balance.org_id == scope.org_id,
        Balance.point_type_id == scope.point_type_id,
        Balance.period_kind == scope.period_kind,
        Balance.period_key == scope.period_key,
        Member.status != MemberStatus.ERASED,
    ]
    if scope.department_ids is not None:
        conditions.append(Member.department_id.in_(list(scope.department_ids)))
    if scope.public_only:
        conditions.append(Member.id.in_(consenting(scope.org_id)))
    return conditions


def consenting(org_id: int) -> Select[int]:
    """Members whose newest public-display consent record is a grant, by the guardian for minors (MIN-1)."""
    newest = (
        select(func.max(Consent.id))
        .where(Consent.org_id == org_id, Consent.kind == ConsentKind.PUBLIC_DISPLAY)
        .group_by(Consent.member_id)
    )
    adults_or_guardian = or_(
        Consent.actor == "guardian", ~Consent.member_id.in_(_minors(org_id, utc_now().year))
    )
    return select(Consent.member_id).where(
        Consent.id.in_(newest), Consent.granted.is_(True), adults_or_guardian
    )


def _minors(org_id: int, year: int) -> Select[int]:
    return select(Member.id).where(Member.org_id == org_id, minor_clause(org_id, year))


async def ranked(
    session: AsyncSession, scope: Scope, limit: int, offset: int = 0, order: Order = Order.TOP
) -> list[RankedMember]:
    """One page of the scope's ranking (or of its reverse for ``Order.BOTTOM``), in one statement."""
    rows = (await session.execute(page_query(scope, limit, offset, order))).all()
    return [
        RankedMember(rank=r.rank, member_id=r.member_id, display_name=r.display_name, points=r.points)
        for r in rows
    ]


def page_query(scope: Scope, limit: int, offset: int, order: Order) -> Select[int, str, int, int]:
    """The statement behind ``ranked``: a range scan of the ranking index, not of the whole scope.

    A member's rank depends only on the members with more points. So the page of the best ``limit``
    after ``offset`` is found among the members with at least the points of the
    ``offset + limit``-th best (the prefix); RANK() over that prefix is the rank over the whole scope.
    From the bottom, the prefix is the members with at most the points of the ``offset + limit``-th
    worst, and a rank is 1 + (members in scope) - (members with no more points), a COUNT window.
    """
    conditions = _conditions(scope)
    joined = select(Balance.points).join(Member, Member.id == Balance.member_id).where(*conditions)
    rank: ColumnElement[int]
    if order is Order.TOP:
        edge = joined.order_by(Balance.points.desc()).limit(offset + limit).subquery()
        in_prefix = Balance.points >= select(func.min(edge.c.points)).scalar_subquery()
        rank = func.rank().over(order_by=Balance.points.desc())
    else:
        edge = joined.order_by(Balance.points.asc()).limit(offset + limit).subquery()
        in_prefix = Balance.points <= select(func.max(edge.c.points)).scalar_subquery()
        in_scope = joined.with_only_columns(func.count()).scalar_subquery()
        rank = 1 + in_scope - func.count().over(order_by=Balance.points.asc())
    prefix = (
        select(Balance.member_id, Member.display_name, Balance.points, rank.label("rank"))
        .join(Member, Member.id == Balance.member_id)
        .where(*conditions, in_prefix)
        .subquery()
    )
    return (
        select(prefix.c.member_id, prefix.c.display_name, prefix.c.points, prefix.c.rank)
        .order_by(*_listing_order(prefix, order))
        .limit(limit)
        .offset(offset)
    )


def _listing_order(prefix: Subquery, order: Order) -> tuple[UnaryExpression[Any], ...]:
    # Ties are listed by display name, then member id; the bottom list is the top list reversed.
    columns = (prefix.c.points, prefix.c.display_name, prefix.c.member_id)
    if order is Order.TOP:
        return (columns[0].desc(), columns[1].asc(), columns[2].asc())
    return (columns[0].asc(), columns[1].desc(), columns[2].desc())


async def top(
    session: AsyncSession, org_id: int, point_type_id: int, period_kind: str, period_key: str, limit: int
) -> list[RankedMember]:
    """The best ``limit`` members of one period and point type in the organisation, ranked 1, 2, 2, 4."""
    return await ranked(
        session,
        Scope(org_id=org_id, point_type_id=point_type_id, period_kind=period_kind, period_key=period_key),
        limit,
    )


def competition_ranks(ordered: list[tuple[int, str, int]]) -> list[RankedMember]:
    """Rank rows already sorted by points descending: a row's rank is 1 + the rows with more points."""
    ranked_rows: list[RankedMember] = []
    for position, (member_id, name, points) in enumerate(ordered, start=1):
        tied = ranked_rows and ranked_rows[-1].points == points
        rank = ranked_rows[-1].rank if tied else position
        ranked_rows.append(RankedMember(rank=rank, member_id=member_id, display_name=name, points=points))
    return ranked_rows
