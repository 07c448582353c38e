"""Displays (signs driven by an agent): create and update (each publishes at once) and list."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, PathId, PublisherDep, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import agent_by_id, owned, page_of, point_type_by_code
from cloud.api.problems import problem
from cloud.api.schemas import DisplayIn, DisplayOut, DisplayUpdate
from cloud.db.models import Display
from cloud.displays.kinds import refusal
from cloud.domain import audit_log

router = APIRouter(prefix="/displays", tags=["displays"])

# The contract's display message carries at most 64 signs (sync.decode_display).
MAX_SIGNS_PER_AGENT = 64


def _check_shape(kind: str, show_red_black: bool, announcement_text: str) -> None:
    reason = refusal(kind, show_red_black, announcement_text)
    if reason is not None:
        raise problem(422, reason)


@router.post("", status_code=201)
async def create_display(
    body: DisplayIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> DisplayOut:
    """Attach a sign of an agent to a content kind; its content is published right away."""
    _check_shape(body.content_kind, body.show_red_black, body.announcement_text)
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


@router.patch("/{display_id}")
async def update_display(
    display_id: PathId, body: DisplayUpdate, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> DisplayOut:
    """Change a display's kind, size, title, audience, announcement or red/black switch; republished."""
    display = await owned(session, Display, display_id, principal.org_id, "display")
    changes = {
        name: value for name, value in body.model_dump(exclude_unset=True).items() if value is not None
    }
    merged = {
        "kind": changes.get("content_kind", display.content_kind),
        "show_red_black": changes.get("show_red_black", display.show_red_black),
        "announcement_text": changes.get("announcement_text", display.announcement_text),
    }
    _check_shape(str(merged["kind"]), bool(merged["show_red_black"]), str(merged["announcement_text"]))
    for name, value in changes.items():
        setattr(display, name, value)
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "display.update",
        f"display:{display_id}",
        body.model_dump(mode="json", exclude_unset=True),
    )
    await session.commit()
    if publisher is not None:
        publisher.changed(principal.org_id)
    return DisplayOut.model_validate(display)


@router.get("")
async def list_displays(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[DisplayOut]:
    """The organisation's displays."""
    query = select(Display).where(Display.org_id == principal.org_id).order_by(Display.id)
    return [DisplayOut.model_validate(d) for d in await page_of(session, query, page)]
