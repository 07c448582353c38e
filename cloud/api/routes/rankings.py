"""Rankings: ``GET /rankings?period=month&key=2026-11&point_type=A&limit=10`` (a response model)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api.deps import SessionDep, Viewer
from cloud.api.lookups import point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas import RankingOut, RankingRowOut
from cloud.db.models import Organisation
from cloud.domain import ranking
from cloud.domain.periods import PeriodKind, is_valid_key, period_key, today

router = APIRouter(tags=["rankings"])


@router.get("/rankings", response_model=RankingOut)
async def get_ranking(
    session: SessionDep,
    principal: Viewer,
    point_type: str,
    period: PeriodKind = PeriodKind.MONTH,
    key: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
) -> RankingOut:
    """The top ``limit`` of one period (default: the current one in the organisation's time zone)."""
    kind = PeriodKind(period)
    if key is None:
        org = await session.get_one(Organisation, principal.org_id)
        key = period_key(kind, today(org.time_zone))
    elif not is_valid_key(kind, key):
        raise problem(422, f"key {key!r} is not a valid {kind.value} key (month YYYY-MM, year YYYY, all)")
    pt = await point_type_by_code(session, point_type, principal.org_id)
    ranked = await ranking.top(session, principal.org_id, pt.id, kind.value, key, limit)
    rows = [
        RankingRowOut(rank=r.rank, member_id=r.member_id, display_name=r.display_name, points=r.points)
        for r in ranked
    ]
    return RankingOut(period=kind.value, key=key, point_type=pt.code, rows=rows)
