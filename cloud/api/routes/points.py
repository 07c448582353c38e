"""Point types and the rule catalogue."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import page_of, point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas import PointTypeIn, PointTypeOut, RuleIn, RuleOut
from cloud.db.models import PointRule, PointType
from cloud.domain import audit_log

router = APIRouter(tags=["points"])


@router.post("/point-types", status_code=201)
async def create_point_type(body: PointTypeIn, session: SessionDep, principal: OrgAdmin) -> PointTypeOut:
    """Create a point type (code unique within the organisation)."""
    taken = select(PointType.id).where(PointType.org_id == principal.org_id, PointType.code == body.code)
    if (await session.execute(taken)).first():
        raise problem(409, f"point type {body.code!r} already exists")
    point_type = PointType(org_id=principal.org_id, code=body.code, name=body.name)
    session.add(point_type)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "point_type.create",
        f"point_type:{point_type.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return PointTypeOut.model_validate(point_type)


@router.get("/point-types")
async def list_point_types(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[PointTypeOut]:
    """The organisation's point types."""
    query = select(PointType).where(PointType.org_id == principal.org_id).order_by(PointType.id)
    return [PointTypeOut.model_validate(p) for p in await page_of(session, query, page)]


@router.post("/rules", status_code=201)
async def create_rule(body: RuleIn, session: SessionDep, principal: OrgAdmin) -> RuleOut:
    """Add a rule to the catalogue."""
    point_type = await point_type_by_code(session, body.point_type, principal.org_id)
    if body.min_points is not None and body.max_points is not None and body.min_points > body.max_points:
        raise problem(422, "min_points must not exceed max_points")
    fields = body.model_dump(exclude={"point_type"})
    rule = PointRule(org_id=principal.org_id, point_type_id=point_type.id, **fields)
    session.add(rule)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "rule.create",
        f"point_rule:{rule.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return RuleOut.model_validate(rule)


@router.get("/rules")
async def list_rules(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[RuleOut]:
    """The organisation's rule catalogue."""
    query = select(PointRule).where(PointRule.org_id == principal.org_id).order_by(PointRule.id)
    return [RuleOut.model_validate(r) for r in await page_of(session, query, page)]
