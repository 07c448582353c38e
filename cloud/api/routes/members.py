"""Members: create, list, get (sensitive fields are never part of these answers)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import Manager, PageDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas import MemberIn, MemberOut
from cloud.db.models import Member

router = APIRouter(prefix="/members", tags=["members"])


@router.post("", status_code=201)
async def create_member(body: MemberIn, session: SessionDep, principal: Manager) -> MemberOut:
    """Create a member; a terminal PIN is unique within the organisation."""
    if body.pin is not None:
        taken = select(Member.id).where(Member.org_id == principal.org_id, Member.pin == body.pin)
        if (await session.execute(taken)).first():
            raise problem(409, f"PIN {body.pin!r} already belongs to another member")
    member = Member(org_id=principal.org_id, **body.model_dump())
    session.add(member)
    await session.commit()
    return MemberOut.model_validate(member)


@router.get("")
async def list_members(session: SessionDep, principal: Viewer, page: PageDep) -> list[MemberOut]:
    """The organisation's members."""
    query = select(Member).where(Member.org_id == principal.org_id).order_by(Member.id)
    return [MemberOut.model_validate(m) for m in await page_of(session, query, page)]


@router.get("/{member_id}")
async def get_member(member_id: int, session: SessionDep, principal: Viewer) -> MemberOut:
    """One member."""
    return MemberOut.model_validate(await owned(session, Member, member_id, principal.org_id, "member"))
