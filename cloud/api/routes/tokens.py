"""The organisation's bearer tokens: issue, list, revoke and rotate (every one audited).

Every token expires: without ``expires_at`` a token lives the cloud's ``MPM_TOKEN_LIFETIME_DAYS``.
Rotation revokes a live token and issues its successor (same role, person and label, a fresh lifetime)
in one transaction: an org admin rotates any token of its role or weaker (``/tokens/{id}/rotate``),
every caller its own (``/token/rotate``). A revoked or expired token cannot be rotated (409).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import (
    OrgAdmin,
    PageDep,
    PathId,
    Principal,
    PrincipalCacheDep,
    ReadSessionDep,
    SessionDep,
    Viewer,
)
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas_people import ApiTokenIn, IssuedTokenOut, TokenOut
from cloud.db.base import utc_now
from cloud.db.models import ApiToken, Member, Role
from cloud.db.models.orgs import ROLE_ORDER
from cloud.domain import audit_log
from cloud.domain.orgs import DEFAULT_TOKEN_LIFETIME, TokenNotLive, issue_token_record, rotate_token
from cloud.settings import CloudSettings

router = APIRouter(tags=["org"])


def token_lifetime(request: Request) -> dt.timedelta:
    """The lifetime of a token issued without an expiry: the cloud's setting (90 days by default)."""
    settings: CloudSettings | None = getattr(request.app.state, "settings", None)
    return dt.timedelta(days=settings.token_lifetime_days) if settings else DEFAULT_TOKEN_LIFETIME


def _issued(secret: str, record: ApiToken) -> IssuedTokenOut:
    return IssuedTokenOut(token=secret, **TokenOut.model_validate(record).model_dump())


def _check_may_issue(principal: Principal, role: Role) -> None:
    if ROLE_ORDER.index(role) > ROLE_ORDER.index(principal.role):
        raise problem(403, f"you cannot issue a {role.value} token")


@router.post("/tokens", status_code=201)
async def create_token(
    body: ApiTokenIn, request: Request, session: SessionDep, principal: OrgAdmin
) -> IssuedTokenOut:
    """Issue a bearer token of your role or weaker, optionally bound to the member it belongs to."""
    _check_may_issue(principal, Role(body.role))
    if body.expires_at is not None and (body.expires_at.tzinfo is None or body.expires_at <= utc_now()):
        raise problem(422, "expires_at must be a future time with a time zone")
    if body.member_id is not None:
        await owned(session, Member, body.member_id, principal.org_id, "member")
    secret, record = await issue_token_record(
        session,
        principal.org_id,
        Role(body.role),
        label=body.label,
        expires_at=body.expires_at,
        lifetime=token_lifetime(request),
        member_id=body.member_id,
    )
    detail = {
        "role": body.role.value,
        "member_id": body.member_id,
        "expires_at": record.expires_at.isoformat(),
    }
    await audit_log.record(
        session, principal.org_id, principal.actor(), "token.issue", f"api_token:{record.id}", detail
    )
    await session.commit()
    return _issued(secret, record)


@router.get("/tokens")
async def list_tokens(session: ReadSessionDep, principal: OrgAdmin, page: PageDep) -> list[TokenOut]:
    """The organisation's tokens (never their secrets)."""
    query = select(ApiToken).where(ApiToken.org_id == principal.org_id).order_by(ApiToken.id)
    return [TokenOut.model_validate(t) for t in await page_of(session, query, page)]


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(
    token_id: PathId, session: SessionDep, principal: OrgAdmin, principals: PrincipalCacheDep
) -> None:
    """Revoke a token: it stops working at once here, within seconds in other API processes."""
    record = await owned(session, ApiToken, token_id, principal.org_id, "token")
    record.revoked_at = record.revoked_at or utc_now()
    await audit_log.record(
        session, principal.org_id, principal.actor(), "token.revoke", f"api_token:{token_id}"
    )
    await session.commit()
    principals.forget(token_id)


@router.post("/tokens/{token_id}/rotate", status_code=201)
async def rotate_a_token(
    token_id: PathId,
    request: Request,
    session: SessionDep,
    principal: OrgAdmin,
    principals: PrincipalCacheDep,
) -> IssuedTokenOut:
    """Revoke a token and issue its successor atomically; answers the new secret (shown once)."""
    old = await owned(session, ApiToken, token_id, principal.org_id, "token")
    _check_may_issue(principal, Role(old.role))
    issued = await _rotate(session, old, principal, request)
    principals.forget(token_id)
    return issued


@router.post("/token/rotate", status_code=201)
async def rotate_own_token(
    request: Request, session: SessionDep, principal: Viewer, principals: PrincipalCacheDep
) -> IssuedTokenOut:
    """Rotate the token this request is made with: it stops working, its successor is answered."""
    old = await session.get_one(ApiToken, principal.token_id)
    issued = await _rotate(session, old, principal, request)
    principals.forget(old.id)
    return issued


async def _rotate(
    session: AsyncSession, old: ApiToken, principal: Principal, request: Request
) -> IssuedTokenOut:
    try:
        secret, record = await rotate_token(session, old, token_lifetime(request))
    except TokenNotLive as error:
        await session.rollback()
        raise problem(409, str(error)) from error
    detail = {"successor": record.id, "role": record.role, "expires_at": record.expires_at.isoformat()}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "token.rotate", f"api_token:{old.id}", detail
    )
    await session.commit()
    return _issued(secret, record)
