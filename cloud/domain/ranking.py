"""Rankings: the top N of a period read from the balance index.

Standard competition ranking ("1224"): equal points share a rank and the next rank skips. Ties are
listed by display name, then member id, so the order is stable.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Balance, Member, MemberStatus


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RankedMember:
    rank: int
    member_id: int
    display_name: str
    points: int


async def top(
    session: AsyncSession, org_id: int, point_type_id: int, period_kind: str, period_key: str, limit: int
) -> list[RankedMember]:
    """The best ``limit`` members of one period and point type, ranked 1, 2, 2, 4."""
    query = (
        select(Balance.member_id, Member.display_name, Balance.points)
        .join(Member, Member.id == Balance.member_id)
        .where(
            Balance.org_id == org_id,
            Balance.point_type_id == point_type_id,
            Balance.period_kind == period_kind,
            Balance.period_key == period_key,
            Member.status != MemberStatus.ERASED,
        )
        .order_by(Balance.points.desc(), Member.display_name, Member.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return competition_ranks([(r.member_id, r.display_name, r.points) for r in rows])


def competition_ranks(ordered: list[tuple[int, str, int]]) -> list[RankedMember]:
    """Rank rows already sorted by points descending: a row's rank is 1 + the rows with more points."""
    ranked: list[RankedMember] = []
    for position, (member_id, name, points) in enumerate(ordered, start=1):
        tied = ranked and ranked[-1].points == points
        rank = ranked[-1].rank if tied else position
        ranked.append(RankedMember(rank=rank, member_id=member_id, display_name=name, points=points))
    return ranked
