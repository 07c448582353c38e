"""Sites (CRUD-lite: create, list, get, rename)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, PathId, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.schemas import SiteIn, SiteOut
from cloud.db.models import Site
from cloud.domain import audit_log

router = APIRouter(prefix="/sites", tags=["sites"])


@router.post("", status_code=201)
async def create_site(body: SiteIn, session: SessionDep, principal: OrgAdmin) -> SiteOut:
    """Create a site."""
    site = Site(org_id=principal.org_id, name=body.name)
    session.add(site)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "site.create",
        f"site:{site.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return SiteOut.model_validate(site)


@router.get("")
async def list_sites(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[SiteOut]:
    """The organisation's sites."""
    query = select(Site).where(Site.org_id == principal.org_id).order_by(Site.id)
    return [SiteOut.model_validate(s) for s in await page_of(session, query, page)]


@router.get("/{site_id}")
async def get_site(site_id: PathId, session: ReadSessionDep, principal: Viewer) -> SiteOut:
    """One site."""
    return SiteOut.model_validate(await owned(session, Site, site_id, principal.org_id, "site"))


@router.patch("/{site_id}")
async def rename_site(site_id: PathId, body: SiteIn, session: SessionDep, principal: OrgAdmin) -> SiteOut:
    """Rename a site."""
    site = await owned(session, Site, site_id, principal.org_id, "site")
    site.name = body.name
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "site.rename",
        f"site:{site.id}",
        body.model_dump(mode="json"),
    )
    await session.commit()
    return SiteOut.model_validate(site)
