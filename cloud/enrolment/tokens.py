"""Enrolment tokens in the database: issue, find by token or short code, refuse, claim once.

Rules (ACC-3): a token is bound to one organisation and site, expires, and is used once. ``claim_token``
is a conditional UPDATE (``used_at IS NULL AND expires_at > now``) in the enrolling transaction: of two
concurrent uses exactly one changes the row (PostgreSQL re-checks the condition after the first commit;
SQLite runs the transactions one after the other), and the other is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from typing import Any, Final

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, EnrolmentToken
from cloud.enrolment.sealing import TokenSeal
from cloud.pki import hash_enrolment_token, hash_short_code, new_enrolment_token

log = logging.getLogger(__name__)

# A short code is 9 characters (ABCD-EFGH) give or take spaces; a token is 43.
SHORT_CODE_MAX_TEXT: Final = 16
_ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lowercase: fits [a-z0-9-]+
_ID_SUFFIX_LENGTH: Final = 6


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class IssuedToken:
    """A new token row and the secrets shown once to the admin."""

    row: EnrolmentToken
    token: str
    short_code: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Credential:
    """What an agent presented: the stored hash to look up, and whether it was a short code."""

    column_hash: str
    is_short_code: bool


async def issue_token(
    session: AsyncSession,
    *,
    org_id: int,
    site_id: int,
    created_by: int | None,
    valid_for: dt.timedelta,
    seal: TokenSeal,
    now: dt.datetime,
) -> IssuedToken:
    """A new token for ``site_id`` (the caller checked it is ``org_id``'s); the caller commits."""
    fresh = new_enrolment_token()
    row = EnrolmentToken(
        org_id=org_id,
        site_id=site_id,
        token_hash=fresh.token_hash,
        short_code_hash=hash_short_code(fresh.short_code),
        expires_at=now + valid_for,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()  # the id is the seal's associated data
    row.token_sealed = seal.seal(fresh.token, row.id)
    return IssuedToken(row=row, token=fresh.token, short_code=fresh.short_code)


def credential_from(text: str) -> Credential | None:
    """The look-up for a token or a typed short code; None when it can be neither."""
    if len(text) > SHORT_CODE_MAX_TEXT:
        return Credential(column_hash=hash_enrolment_token(text), is_short_code=False)
    try:
        return Credential(column_hash=hash_short_code(text), is_short_code=True)
    except ValueError:
        return None


async def find_token(session: AsyncSession, credential: Credential) -> EnrolmentToken | None:
    """The token row ``credential`` names, whatever its state."""
    column = EnrolmentToken.short_code_hash if credential.is_short_code else EnrolmentToken.token_hash
    query = select(EnrolmentToken).where(column == credential.column_hash)
    return (await session.execute(query)).scalar_one_or_none()


def refusal(row: EnrolmentToken, now: dt.datetime) -> str | None:
    """Why ``row`` cannot enrol an agent now (used or expired), or None."""
    if row.used_at is not None:
        return "this enrolment token was already used; ask the organisation's admin for a new one"
    if row.expires_at <= now:
        return f"this enrolment token expired at {row.expires_at.isoformat()}; ask for a new one"
    return None


async def new_agent_id(session: AsyncSession, site_id: int) -> str:
    """A free cloud-assigned agent id ``site-<site id>-<6 lowercase base32>``."""
    for _ in range(8):
        suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_SUFFIX_LENGTH))
        candidate = f"site-{site_id}-{suffix}"
        if (await session.execute(select(Agent.id).where(Agent.agent_id == candidate))).first() is None:
            return candidate
    raise RuntimeError("no free agent id after 8 draws of 30 bits: the agent table is corrupt")


async def claim_token(session: AsyncSession, row_id: int, agent_id: str, now: dt.datetime) -> bool:
    """Mark the token used by ``agent_id``; False when another use got there first or it expired."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(EnrolmentToken)
        .where(
            EnrolmentToken.id == row_id,
            EnrolmentToken.used_at.is_(None),
            EnrolmentToken.expires_at > now,
        )
        .values(used_at=now, used_by_agent=agent_id, token_sealed=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
