"""Rankings: ``GET /rankings?period=month&key=2026-11&point_type=A&department_id=3&order=top&limit=10``.

Red list = ``order=top`` (best first), black list = ``order=bottom`` (worst first). Ranks are
standard competition ranks over the whole scope (1, 2, 2, 4), ties listed by display name then id.
A ranking is answered from pre-serialised bytes while the organisation's ranking version stands
(``ranking_cache``); computing one costs a statement, checking the cache one primary-key read.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import OrgAdmin, PageDep, PathId, QueryId, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of, point_type_by_code
from cloud.api.problems import problem
from cloud.api.ranking_cache import RankingKey, RankingReads
from cloud.api.schemas import Id, Out, RankingOut, RankingRowOut, Text
from cloud.db.models import Department, Organisation, RankingSnapshot
from cloud.domain import audit_log, ranking, snapshots
from cloud.domain.departments import subtree
from cloud.domain.periods import PeriodKind, is_valid_key, period_key, today

router = APIRouter(tags=["rankings"])

KEY_FORMATS = "day YYYY-MM-DD, week YYYY-Www, month YYYY-MM, quarter YYYY-Qn, year YYYY, all"


@router.get("/rankings", response_model=RankingOut)
async def get_ranking(
    request: Request,
    principal: Viewer,
    point_type: str,
    period: PeriodKind = PeriodKind.MONTH,
    key: str | None = None,
    department_id: QueryId = None,
    order: ranking.Order = ranking.Order.TOP,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """One page of a period's ranking (default: the current period in the organisation's time zone)."""
    kind = PeriodKind(period)
    if key is not None and not is_valid_key(kind, key):
        raise problem(422, f"key {key!r} is not a valid {kind.value} key ({KEY_FORMATS})")
    reads: RankingReads = request.app.state.rankings  # not a dependency: each one costs µs here
    current = await reads.stamps.stamp(principal.org_id)  # before the ranking: see ranking_version
    wanted = RankingKey(
        org_id=principal.org_id,
        role=principal.role.value,
        point_type=point_type,
        period=kind.value,
        key=key or period_key(kind, today(current.time_zone)),
        department_id=department_id,
        order=ranking.Order(order).value,
        limit=limit,
        offset=offset,
    )
    body = reads.cache.get(wanted, current.version)
    if body is None:
        async with reads.sessions() as session:
            body = await _ranking_body(session, wanted)
        reads.cache.put(wanted, current.version, body)
    return Response(content=body, media_type="application/json")


async def _ranking_body(session: AsyncSession, wanted: RankingKey) -> bytes:
    pt = await point_type_by_code(session, wanted.point_type, wanted.org_id)
    departments = None
    if wanted.department_id is not None:
        await owned(session, Department, wanted.department_id, wanted.org_id, "department")
        departments = await subtree(session, wanted.org_id, wanted.department_id)
    scope = ranking.Scope(
        org_id=wanted.org_id,
        point_type_id=pt.id,
        period_kind=wanted.period,
        period_key=wanted.key,
        department_ids=departments,
    )
    order = ranking.Order(wanted.order)
    rows = await ranking.ranked(session, scope, wanted.limit, wanted.offset, order)
    out = RankingOut(
        period=wanted.period,
        key=wanted.key,
        point_type=pt.code,
        order=order.value,
        department_id=wanted.department_id,
        rows=[RankingRowOut.model_validate(r, from_attributes=True) for r in rows],
    )
    return out.model_dump_json().encode()


class SnapshotIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"point_type": "A", "period": "month", "key": "2026-10"}]}
    )

    point_type: Text
    period: PeriodKind = PeriodKind.MONTH
    key: str = Field(examples=["2026-10"])
    department_id: Id | None = None


class SnapshotOut(Out):
    id: int
    point_type_id: int
    period_kind: str
    period_key: str
    department_id: int | None
    rows: list[RankingRowOut]
    frozen_at: dt.datetime


@router.post("/ranking-snapshots", status_code=201)
async def freeze_ranking(body: SnapshotIn, session: SessionDep, principal: OrgAdmin) -> SnapshotOut:
    """Freeze a closed period's ranking as published (reproducible whatever arrives later)."""
    kind = PeriodKind(body.period)
    if not is_valid_key(kind, body.key):
        raise problem(422, f"key {body.key!r} is not a valid {kind.value} key ({KEY_FORMATS})")
    pt = await point_type_by_code(session, body.point_type, principal.org_id)
    departments = None
    if body.department_id is not None:
        await owned(session, Department, body.department_id, principal.org_id, "department")
        departments = await subtree(session, principal.org_id, body.department_id)
    scope = ranking.Scope(
        org_id=principal.org_id,
        point_type_id=pt.id,
        period_kind=kind.value,
        period_key=body.key,
        department_ids=departments,
    )
    org = await session.get_one(Organisation, principal.org_id)
    try:
        snapshot = await snapshots.freeze(
            session, scope, org.time_zone, body.department_id, principal.token_id
        )
    except snapshots.SnapshotError as exc:
        raise problem(409, str(exc)) from None
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "ranking.freeze",
        f"ranking_snapshot:{snapshot.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return SnapshotOut.model_validate(snapshot)


@router.get("/ranking-snapshots")
async def list_snapshots(
    session: ReadSessionDep, principal: Viewer, page: PageDep, period: PeriodKind | None = None
) -> list[SnapshotOut]:
    """Frozen rankings, newest first."""
    query = select(RankingSnapshot).where(RankingSnapshot.org_id == principal.org_id)
    if period is not None:
        query = query.where(RankingSnapshot.period_kind == period.value)
    rows = await page_of(session, query.order_by(RankingSnapshot.id.desc()), page)
    return [SnapshotOut.model_validate(s) for s in rows]


@router.get("/ranking-snapshots/{snapshot_id}")
async def get_snapshot(snapshot_id: PathId, session: ReadSessionDep, principal: Viewer) -> SnapshotOut:
    """One frozen ranking."""
    return SnapshotOut.model_validate(
        await owned(session, RankingSnapshot, snapshot_id, principal.org_id, "ranking snapshot")
    )
