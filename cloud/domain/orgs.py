"""Organisations and their bearer tokens.

Rule: every token expires. Without an explicit expiry a token lives ``DEFAULT_TOKEN_LIFETIME`` (the
cloud's ``MPM_TOKEN_LIFETIME_DAYS``); rotation swaps a live token for a new one atomically.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import ApiToken, Organisation, OrgKind, Role
from cloud.security import hash_token, new_token

DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_TOKEN_LIFETIME: Final = dt.timedelta(days=90)


class TokenNotLive(Exception):
    """The token to rotate is already revoked or expired (or another rotation got there first)."""


async def create_org(
    session: AsyncSession, name: str, kind: OrgKind, time_zone: str = DEFAULT_TIME_ZONE
) -> Organisation:
    """A new organisation; the caller commits."""
    org = Organisation(name=name, kind=kind.value, time_zone=time_zone, settings={})
    session.add(org)
    await session.flush()
    return org


async def issue_token(
    session: AsyncSession,
    org_id: int,
    role: Role,
    *,
    label: str = "",
    expires_at: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME,
    member_id: int | None = None,
) -> str:
    """A new bearer token for ``org_id`` and ``role``; only its hash is stored. The caller commits."""
    token, _record = await issue_token_record(
        session, org_id, role, label=label, expires_at=expires_at, lifetime=lifetime, member_id=member_id
    )
    return token


async def issue_token_record(
    session: AsyncSession,
    org_id: int,
    role: Role,
    *,
    label: str = "",
    expires_at: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME,
    member_id: int | None = None,
) -> tuple[str, ApiToken]:
    """Like ``issue_token``, with the stored record; expiry ``expires_at`` or ``lifetime`` from now."""
    token = new_token()
    record = ApiToken(
        org_id=org_id,
        role=role.value,
        token_hash=hash_token(token),
        label=label,
        member_id=member_id,
        expires_at=expires_at or utc_now() + lifetime,
    )
    session.add(record)
    await session.flush()
    return token, record


async def rotate_token(
    session: AsyncSession, old: ApiToken, lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME
) -> tuple[str, ApiToken]:
    """Revoke ``old`` and issue its successor (same organisation, role, person, label) in one transaction.

    The revocation is a conditional UPDATE (still live), so of two concurrent rotations only one wins;
    the loser raises ``TokenNotLive`` and the caller rolls back. The caller commits.
    """
    now = utc_now()
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(ApiToken)
        .where(ApiToken.id == old.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TokenNotLive(f"token {old.id} is revoked or expired: it cannot be rotated")
    return await issue_token_record(
        session, old.org_id, Role(old.role), label=old.label, lifetime=lifetime, member_id=old.member_id
    )


async def token_record(session: AsyncSession, token: str) -> ApiToken | None:
    """The live (not revoked, not expired) token record for ``token``, or None."""
    query = select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    record = (await session.execute(query)).scalar_one_or_none()
    if record is None or record.expires_at <= utc_now():
        return None
    return record
