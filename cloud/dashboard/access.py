"""Who may see a dashboard: the browser's pass (cookie), checked for signature, expiry and revocation.

A display link's pass stays valid while its ``display_link`` row is neither revoked nor expired; a
token login's pass while its API token is neither revoked nor expired. The pass is checked on every
page and on every SSE connection, and an open SSE stream re-checks it at each heartbeat, so revoking
a link or a token empties the wall screen within a heartbeat.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Final

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.dashboard import passes
from cloud.db.models import ApiToken, DisplayLink
from cloud.domain.orgs import token_record
from cloud.privacy import MasterKey

COOKIE: Final = "mpm_dashboard"
LOGIN_HOURS: Final = 12  # a token login's pass; a display link's pass lives as long as the link


class NoAccess(Exception):
    """The request carries no valid pass (the message says why, for the login page)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Viewer:
    """A dashboard viewer: one organisation, read-only; ``public_only`` for wall screens by default."""

    org_id: int
    public_only: bool
    pass_text: str


async def still_valid(session: AsyncSession, granted: passes.Pass, now: dt.datetime) -> bool | None:
    """None when the pass's subject is gone or revoked; else whether it shows public members only."""
    if granted.kind == "link":
        link = await session.get(DisplayLink, granted.subject_id)
        if (
            link is None
            or link.org_id != granted.org_id
            or link.revoked_at is not None
            or link.expires_at <= now
        ):
            return None
        return link.audience != "internal"
    token = await session.get(ApiToken, granted.subject_id)
    if (
        token is None
        or token.org_id != granted.org_id
        or token.revoked_at is not None
        or token.expires_at <= now
    ):
        return None
    return False


async def viewer_of(request: Request, text: str | None, now: dt.datetime) -> Viewer:
    """The viewer behind pass ``text``; NoAccess unless it is signed, unexpired and not revoked."""
    if not text:
        raise NoAccess("please log in")
    master: MasterKey = request.app.state.master_key
    try:
        granted = passes.verify(master, text, now)
    except passes.BadPass as error:
        raise NoAccess(str(error)) from None
    async with request.app.state.read_sessions() as session:
        public_only = await still_valid(session, granted, now)
    if public_only is None:
        raise NoAccess("this dashboard pass was revoked or has expired")
    return Viewer(org_id=granted.org_id, public_only=public_only, pass_text=text)


async def token_login(session: AsyncSession, master: MasterKey, token: str, now: dt.datetime) -> str | None:
    """A pass for the holder of API ``token``, or None when the token is unknown, expired or revoked."""
    record = await token_record(session, token)
    if record is None:
        return None
    expires = min(record.expires_at, now + dt.timedelta(hours=LOGIN_HOURS))
    granted = passes.Pass(org_id=record.org_id, kind="token", subject_id=record.id, expires_at=expires)
    return passes.issue(master, granted)
