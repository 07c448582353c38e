"""Request dependencies as ``Annotated`` aliases: session, authenticated principal with a role, publisher.

Every dependency is ``async def``: FastAPI runs a plain ``def`` dependency in a worker thread, a
thread hop per request for what is an attribute read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.principal_cache import PrincipalCache
from cloud.api.problems import problem
from cloud.db.models import Role
from cloud.db.models.orgs import ROLE_ORDER
from cloud.displays.publisher import DisplayPublisher
from cloud.domain.audit_log import Actor
from cloud.domain.orgs import token_record
from cloud.domain.workflow import Person
from cloud.privacy import MasterKey
from cloud.security import hash_token

_bearer = HTTPBearer(auto_error=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.read_sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
# For routes that only read: never waits for a writer (SQLite: deferred, query-only connections).
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """Who is calling: every query is scoped to ``org_id``."""

    org_id: int
    role: Role
    token_id: int | None = None
    member_id: int | None = None  # the person behind the token, when known

    def actor(self) -> Actor:
        """This caller as the audit log names it."""
        return Actor(token_id=self.token_id, role=self.role.value)

    def person(self) -> Person:
        """This caller as the award workflow sees it."""
        return Person(token_id=self.token_id, role=self.role, member_id=self.member_id)


async def get_principal_cache(request: Request) -> PrincipalCache[Principal]:
    cache: PrincipalCache[Principal] = request.app.state.principals
    return cache


PrincipalCacheDep = Annotated[PrincipalCache[Principal], Depends(get_principal_cache)]


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise problem(401, "a bearer token is required (Authorization: Bearer <token>)", challenge)
    cache: PrincipalCache[Principal] = request.app.state.principals  # not a dependency: µs count here
    token_hash = hash_token(credentials.credentials)
    principal = cache.get(token_hash)
    if principal is not None:
        return principal
    async with request.app.state.read_sessions() as session:  # only on a miss (see principal_cache)
        record = await token_record(session, credentials.credentials)
    if record is None:
        raise problem(401, "the bearer token is unknown, expired or revoked", challenge)
    principal = Principal(
        org_id=record.org_id, role=Role(record.role), token_id=record.id, member_id=record.member_id
    )
    cache.put(token_hash, principal, token_id=record.id, expires_at=record.expires_at)
    return principal


def require(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting ``role`` and every stronger one."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if ROLE_ORDER.index(principal.role) < ROLE_ORDER.index(role):
            raise problem(403, f"this action needs the role {role.value} or stronger")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Manager = Annotated[Principal, Depends(require(Role.MANAGER))]
OrgAdmin = Annotated[Principal, Depends(require(Role.ORG_ADMIN))]
PlatformAdmin = Annotated[Principal, Depends(require(Role.PLATFORM_ADMIN))]


async def get_publisher(request: Request) -> DisplayPublisher | None:
    publisher: DisplayPublisher | None = request.app.state.publisher
    return publisher


PublisherDep = Annotated[DisplayPublisher | None, Depends(get_publisher)]


async def get_master_key(request: Request) -> MasterKey:
    master: MasterKey = request.app.state.master_key
    return master


MasterKeyDep = Annotated[MasterKey, Depends(get_master_key)]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    limit: int
    offset: int


async def get_page(  # every list route takes these two
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0
) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(get_page)]


MAX_ID = 2**31 - 1  # 32-bit database integers (see schemas.Id)
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
