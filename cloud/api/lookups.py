"""Tenant-scoped fetches: an object of another organisation is reported exactly like a missing one (404)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import MAX_ID, Page
from cloud.api.problems import not_found
from cloud.db.base import Base
from cloud.db.models import Agent, PointType

_M = TypeVar("_M", bound=Base)


async def owned(session: AsyncSession, model: type[_M], ident: int, org_id: int, what: str) -> _M:
    """The ``model`` row ``ident`` if it belongs to ``org_id``; 404 otherwise."""
    if not 1 <= ident <= MAX_ID:  # no row can have it (and PostgreSQL integers are 32-bit)
        raise not_found(what, ident)
    row = await session.get(model, ident)
    if row is None or getattr(row, "org_id", None) != org_id:
        raise not_found(what, ident)
    return row


async def agent_by_id(session: AsyncSession, agent_id: str, org_id: int) -> Agent:
    query = select(Agent).where(Agent.agent_id == agent_id, Agent.org_id == org_id)
    agent = (await session.execute(query)).scalar_one_or_none()
    if agent is None:
        raise not_found("agent", agent_id)
    return agent


async def point_type_by_code(session: AsyncSession, code: str, org_id: int) -> PointType:
    query = select(PointType).where(PointType.code == code, PointType.org_id == org_id)
    point_type = (await session.execute(query)).scalar_one_or_none()
    if point_type is None:
        raise not_found("point type", repr(code))
    return point_type


async def page_of(session: AsyncSession, query: Select[_M], page: Page) -> list[_M]:
    """One page of ``query``'s rows."""
    return list((await session.execute(query.limit(page.limit).offset(page.offset))).scalars())
