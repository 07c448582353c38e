"""The department tree: subtree lookups (department-scoped rankings include sub-departments) and moves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Department


async def parents(session: AsyncSession, org_id: int) -> dict[int, int | None]:
    """Every department of the organisation → its parent (trees are small: one query, walked in memory)."""
    rows = await session.execute(
        select(Department.id, Department.parent_id).where(Department.org_id == org_id)
    )
    return {ident: parent for ident, parent in rows.all()}


async def subtree(session: AsyncSession, org_id: int, root_id: int) -> set[int]:
    """``root_id`` and every department below it."""
    tree = await parents(session, org_id)
    found = {root_id}
    grew = True
    while grew:
        below = {d for d, p in tree.items() if p in found} - found
        found |= below
        grew = bool(below)
    return found


async def would_cycle(session: AsyncSession, org_id: int, department_id: int, new_parent: int | None) -> bool:
    """Whether making ``new_parent`` the parent of ``department_id`` would put it under itself."""
    tree = await parents(session, org_id)
    node = new_parent
    while node is not None:
        if node == department_id:
            return True
        node = tree.get(node)
    return False
