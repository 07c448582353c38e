"""Display links (``/api/v1/display-links``): signed, expiring, read-only dashboard links for wall screens.

An org admin issues a link; its ``url`` opens the dashboard without a token (the browser keeps the
pass as a cookie). A link shows public members only unless issued with ``audience: internal``.
Revoking it ends every screen that uses it at its next heartbeat. Issuing and revoking are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, PathId, ReadSessionDep, SessionDep
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas import Out, Text
from cloud.dashboard import passes
from cloud.db.base import utc_now
from cloud.db.models import DisplayLink
from cloud.domain import audit_log
from cloud.privacy import MasterKey

router = APIRouter(prefix="/display-links", tags=["dashboard"])

LINK_PATH = "/dashboard/link/"
MAX_TTL_S = 90 * 24 * 3600


class DisplayLinkIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"label": "lobby wall", "ttl_s": 604800, "audience": "public"}]}
    )

    label: Text = Field(default="", max_length=200, examples=["lobby wall"])
    ttl_s: int = Field(default=7 * 24 * 3600, ge=60, le=MAX_TTL_S, description="seconds until it expires")
    audience: Literal["public", "internal"] = Field(
        default="public", description="public: only members with public-display consent (as a public sign)"
    )


class DisplayLinkOut(Out):
    id: int
    label: str
    audience: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


class IssuedDisplayLinkOut(DisplayLinkOut):
    url: str = Field(description="open this in the wall screen's browser; shown once")


@router.post("", status_code=201)
async def issue_display_link(
    body: DisplayLinkIn, request: Request, session: SessionDep, principal: OrgAdmin
) -> IssuedDisplayLinkOut:
    """Issue a display link: the dashboard for a wall screen, read-only, until it expires or is revoked."""
    now = utc_now()
    link = DisplayLink(
        org_id=principal.org_id,
        label=body.label,
        audience=body.audience,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=body.ttl_s),
    )
    session.add(link)
    await session.flush()
    detail = {"label": body.label, "audience": body.audience, "ttl_s": body.ttl_s}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "display_link.issue", f"display_link:{link.id}", detail
    )
    await session.commit()
    master: MasterKey = request.app.state.master_key
    granted = passes.Pass(org_id=link.org_id, kind="link", subject_id=link.id, expires_at=link.expires_at)
    url = str(request.base_url).rstrip("/") + LINK_PATH + passes.issue(master, granted)
    return IssuedDisplayLinkOut(**DisplayLinkOut.model_validate(link).model_dump(), url=url)


@router.get("")
async def list_display_links(
    session: ReadSessionDep, principal: OrgAdmin, page: PageDep
) -> list[DisplayLinkOut]:
    """The organisation's display links, newest first (their URLs are never shown again)."""
    query = select(DisplayLink).where(DisplayLink.org_id == principal.org_id).order_by(DisplayLink.id.desc())
    return [DisplayLinkOut.model_validate(link) for link in await page_of(session, query, page)]


@router.post("/{link_id}/revoke")
async def revoke_display_link(link_id: PathId, session: SessionDep, principal: OrgAdmin) -> DisplayLinkOut:
    """Revoke a display link: screens using it lose the dashboard at their next heartbeat."""
    link = await owned(session, DisplayLink, link_id, principal.org_id, "display link")
    if link.revoked_at is not None:
        raise problem(409, f"display link {link_id} was already revoked at {link.revoked_at.isoformat()}")
    link.revoked_at = utc_now()
    await audit_log.record(
        session, principal.org_id, principal.actor(), "display_link.revoke", f"display_link:{link.id}", {}
    )
    await session.commit()
    return DisplayLinkOut.model_validate(link)
