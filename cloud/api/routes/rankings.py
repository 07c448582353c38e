"""Rankings: ``GET /rankings?period=month&key=2026-11&point_type=A&department_id=3&order=top&limit=10``.

Red list = ``order=top`` (best first), black list = ``order=bottom`` (worst first). Ranks are
standard competition ranks over the whole scope (1, 2, 2, 4), ties listed by display name then id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api.deps import QueryId, SessionDep, Viewer
from cloud.api.lookups import owned, point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas import RankingOut, RankingRowOut
from cloud.db.models import Department, Organisation
from cloud.domain import ranking
from cloud.domain.departments import subtree
from cloud.domain.periods import PeriodKind, is_valid_key, period_key, today

router = APIRouter(tags=["rankings"])

KEY_FORMATS = "day YYYY-MM-DD, week YYYY-Www, month YYYY-MM, quarter YYYY-Qn, year YYYY, all"


@router.get("/rankings", response_model=RankingOut)
async def get_ranking(
    session: SessionDep,
    principal: Viewer,
    point_type: str,
    period: PeriodKind = PeriodKind.MONTH,
    key: str | None = None,
    department_id: QueryId = None,
    order: ranking.Order = ranking.Order.TOP,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RankingOut:
    """One page of a period's ranking (default: the current period in the organisation's time zone)."""
    kind = PeriodKind(period)
    if key is None:
        org = await session.get_one(Organisation, principal.org_id)
        key = period_key(kind, today(org.time_zone))
    elif not is_valid_key(kind, key):
        raise problem(422, f"key {key!r} is not a valid {kind.value} key ({KEY_FORMATS})")
    pt = await point_type_by_code(session, point_type, principal.org_id)
    departments = None
    if department_id is not None:
        await owned(session, Department, department_id, principal.org_id, "department")
        departments = await subtree(session, principal.org_id, department_id)
    scope = ranking.Scope(
        org_id=principal.org_id,
        point_type_id=pt.id,
        period_kind=kind.value,
        period_key=key,
        department_ids=departments,
    )
    rows = await ranking.ranked(session, scope, limit, offset, ranking.Order(order))
    return RankingOut(
        period=kind.value,
        key=key,
        point_type=pt.code,
        order=ranking.Order(order).value,
        department_id=department_id,
        rows=[RankingRowOut.model_validate(r, from_attributes=True) for r in rows],
    )
