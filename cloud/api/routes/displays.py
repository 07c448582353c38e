"""Displays (signs driven by an agent): create (publishes the content at once) and list."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, PublisherDep, SessionDep, Viewer
from cloud.api.lookups import agent_by_id, page_of, point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas import DisplayIn, DisplayOut
from cloud.db.models import Display
from cloud.domain import audit_log

router = APIRouter(prefix="/displays", tags=["displays"])

# The contract's display message carries at most 64 signs (sync.decode_display).
MAX_SIGNS_PER_AGENT = 64


@router.post("", status_code=201)
async def create_display(
    body: DisplayIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> DisplayOut:
    """Attach a sign of an agent to a ranking; its content is published right away."""
    agent = await agent_by_id(session, body.agent_id, principal.org_id)
    point_type = await point_type_by_code(session, body.point_type, principal.org_id)
    signs = set((await session.execute(select(Display.sign).where(Display.agent_pk == agent.id))).scalars())
    if body.sign in signs:
        raise problem(409, f"agent {body.agent_id!r} already has a display for sign {body.sign!r}")
    if len(signs) >= MAX_SIGNS_PER_AGENT:
        raise problem(
            409, f"agent {body.agent_id!r} already drives {MAX_SIGNS_PER_AGENT} signs, the most one can"
        )
    fields = body.model_dump(exclude={"agent_id", "point_type"})
    display = Display(org_id=principal.org_id, agent_pk=agent.id, point_type_id=point_type.id, **fields)
    session.add(display)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "display.create",
        f"display:{display.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    if publisher is not None:
        publisher.changed(principal.org_id)
    return DisplayOut.model_validate(display)


@router.get("")
async def list_displays(session: SessionDep, principal: Viewer, page: PageDep) -> list[DisplayOut]:
    """The organisation's displays."""
    query = select(Display).where(Display.org_id == principal.org_id).order_by(Display.id)
    return [DisplayOut.model_validate(d) for d in await page_of(session, query, page)]
