"""Departments: a tree (create, list, get, rename or move without cycles, delete when empty)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import OrgAdmin, PageDep, PathId, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas_people import DepartmentIn, DepartmentOut
from cloud.db.models import Department, Member
from cloud.domain import audit_log, ranking_version
from cloud.domain.departments import would_cycle

router = APIRouter(prefix="/departments", tags=["departments"])


@router.post("", status_code=201)
async def create_department(body: DepartmentIn, session: SessionDep, principal: OrgAdmin) -> DepartmentOut:
    """Create a department (``parent_id`` None: a top-level one)."""
    await _check_parent(session, principal.org_id, body)
    department = Department(org_id=principal.org_id, name=body.name, parent_id=body.parent_id)
    session.add(department)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "department.create",
        f"department:{department.id}",
        body.model_dump(),
    )
    await session.commit()
    return DepartmentOut.model_validate(department)


@router.get("")
async def list_departments(session: ReadSessionDep, principal: Viewer, page: PageDep) -> list[DepartmentOut]:
    """The organisation's departments (each with its parent: the client draws the tree)."""
    query = select(Department).where(Department.org_id == principal.org_id).order_by(Department.id)
    return [DepartmentOut.model_validate(d) for d in await page_of(session, query, page)]


@router.get("/{department_id}")
async def get_department(department_id: PathId, session: ReadSessionDep, principal: Viewer) -> DepartmentOut:
    """One department."""
    return DepartmentOut.model_validate(
        await owned(session, Department, department_id, principal.org_id, "department")
    )


@router.put("/{department_id}")
async def update_department(
    department_id: PathId, body: DepartmentIn, session: SessionDep, principal: OrgAdmin
) -> DepartmentOut:
    """Rename or move a department (not under itself or its own sub-departments)."""
    department = await owned(session, Department, department_id, principal.org_id, "department")
    await _check_parent(session, principal.org_id, body, department_id)
    if await would_cycle(session, principal.org_id, department_id, body.parent_id):
        raise problem(422, "a department cannot be moved under itself or one of its sub-departments")
    department.name, department.parent_id = body.name, body.parent_id
    await ranking_version.bump(session, principal.org_id)  # department rankings cover the subtree
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "department.update",
        f"department:{department_id}",
        body.model_dump(),
    )
    await session.commit()
    return DepartmentOut.model_validate(department)


@router.delete("/{department_id}", status_code=204)
async def delete_department(department_id: PathId, session: SessionDep, principal: OrgAdmin) -> None:
    """Delete a department that has no sub-departments and no members."""
    department = await owned(session, Department, department_id, principal.org_id, "department")
    child = select(Department.id).where(Department.parent_id == department_id).limit(1)
    member = select(Member.id).where(Member.department_id == department_id).limit(1)
    if (await session.execute(child)).first() or (await session.execute(member)).first():
        raise problem(409, f"department {department_id} still has sub-departments or members")
    await session.delete(department)
    await ranking_version.bump(session, principal.org_id)  # its cached rankings must answer 404 now
    await audit_log.record(
        session, principal.org_id, principal.actor(), "department.delete", f"department:{department_id}"
    )
    await session.commit()


async def _check_parent(session: AsyncSession, org_id: int, body: DepartmentIn, itself: int = 0) -> None:
    if body.parent_id is not None:
        await owned(session, Department, body.parent_id, org_id, "department")
    taken = select(Department.id).where(
        Department.org_id == org_id,
        Department.parent_id == body.parent_id,
        Department.name == body.name,
        Department.id != itself,
    )
    if (await session.execute(taken)).first():
        raise problem(409, f"a department named {body.name!r} already exists there")
