"""The caller's own organisation."""

from __future__ import annotations

from fastapi import APIRouter

from cloud.api.deps import SessionDep, Viewer
from cloud.api.schemas import OrgOut
from cloud.db.models import Organisation

router = APIRouter(tags=["org"])


@router.get("/org")
async def get_org(session: SessionDep, principal: Viewer) -> OrgOut:
    """The organisation the token belongs to."""
    return OrgOut.model_validate(await session.get_one(Organisation, principal.org_id))
