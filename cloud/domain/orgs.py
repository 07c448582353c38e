"""Organisations and their bearer tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import ApiToken, Organisation, OrgKind, Role
from cloud.security import hash_token, new_token

DEFAULT_TIME_ZONE = "Asia/Shanghai"


async def create_org(
    session: AsyncSession, name: str, kind: OrgKind, time_zone: str = DEFAULT_TIME_ZONE
) -> Organisation:
    """A new organisation; the caller commits."""
    org = Organisation(name=name, kind=kind.value, time_zone=time_zone, settings={})
    session.add(org)
    await session.flush()
    return org


async def issue_token(
    session: AsyncSession, org_id: int, role: Role, *, label: str = "", expires_at: dt.datetime | None = None
) -> str:
    """A new bearer token for ``org_id`` and ``role``; only its hash is stored. The caller commits."""
    token = new_token()
    session.add(
        ApiToken(
            org_id=org_id, role=role.value, token_hash=hash_token(token), label=label, expires_at=expires_at
        )
    )
    await session.flush()
    return token


async def token_record(session: AsyncSession, token: str) -> ApiToken | None:
    """The live (not revoked, not expired) token record for ``token``, or None."""
    query = select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    record = (await session.execute(query)).scalar_one_or_none()
    if record is None or (record.expires_at is not None and record.expires_at <= utc_now()):
        return None
    return record
