"""Per-organisation ranking version, moved in the same transaction as a balance change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def bump(session: AsyncSession, org_id: int) -> None:
    """placeholder: helper rankings implements it"""
