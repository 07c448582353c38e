"""Agent enrolment (PRIVACY.md ACC-3): an org admin issues a single-use, expiring token for one site;
an agent trades it, with a CSR for a key it made itself, for a certificate naming a cloud-assigned id.

``POST /enrol`` takes no bearer token: the enrolment token is the credential. Unknown → 401, used or
expired → 410, a CSR the CA refuses (garbage, damaged key, weak or unknown algorithm, bad signature,
oversized) → 422 naming ``body.csr`` (the token stays usable), too many failed short codes from one
address → 429. The token is marked used in the same transaction that creates the agent.

Audit (AUD-1): issuing a token and enrolling an agent each append to the organisation's hash chain in
the transaction that makes the change, so neither can exist without its entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Annotated

from cryptography import x509
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from cloud.api.deps import OrgAdmin, PublisherDep, SessionDep
from cloud.api.lookups import owned
from cloud.api.problems import not_found, problem
from cloud.db.base import utc_now
from cloud.db.models import Agent, EnrolmentToken, Site
from cloud.domain import audit_log
from cloud.domain.orgs import token_record
from cloud.enrolment import (
    EnrolmentContext,
    EnrolmentNotConfigured,
    claim_token,
    credential_from,
    find_token,
    issue_token,
    new_agent_id,
    refusal,
)
from cloud.pki import CsrRejected, qr_png

log = logging.getLogger(__name__)
router = APIRouter(tags=["enrolment"])
_bearer = HTTPBearer(auto_error=False)
_NO_STORE = {"Cache-Control": "no-store"}  # answers that carry a secret are never cached


class TokenIn(BaseModel):
    valid_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60, description="lifetime of the token")


class TokenOut(BaseModel):
    """Shown once: only hashes are stored."""

    id: int
    site_id: int
    token: str
    short_code: str
    expires_at: dt.datetime
    enrol_uri: str
    enrol_command: str
    qr_path: str


class EnrolIn(BaseModel):
    """Anything else an agent sends (a requested name, say) is ignored: the cloud assigns the id."""

    token: str = Field(min_length=1, max_length=200, description="the token or its short code")
    csr: str = Field(min_length=1, max_length=20_000, description="PEM certificate signing request")


class EnrolOut(BaseModel):
    agent_id: str
    certificate: str
    ca_certificate: str
    mqtt_url: str
    site_id: int


async def get_enrolment(request: Request) -> EnrolmentContext:
    """The process's enrolment context, built from the app's settings on first use; 503 without."""
    context: EnrolmentContext | None = getattr(request.app.state, "enrolment", None)
    if context is None:
        settings = getattr(request.app.state, "settings", None)
        if settings is None:
            raise problem(503, "agent enrolment is not configured (the app has no settings)")
        try:
            context = await asyncio.to_thread(EnrolmentContext.from_settings, settings)
        except EnrolmentNotConfigured as error:
            log.error("%s", error)
            raise problem(503, str(error)) from error
        request.app.state.enrolment = context
    return context


# Who enrols: the holder of a single-use enrolment token (its id is in the entry's detail).
ENROLMENT_ACTOR = audit_log.Actor(token_id=None, role="enrolment_token")

EnrolmentDep = Annotated[EnrolmentContext, Depends(get_enrolment)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@router.post("/sites/{site_id}/enrolment-tokens", status_code=201)
async def create_enrolment_token(
    site_id: int,
    body: TokenIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: OrgAdmin,
    credentials: Bearer,
) -> TokenOut:
    """Issue a single-use enrolment token for one of the organisation's sites."""
    await owned(session, Site, site_id, principal.org_id, "site")
    context = await get_enrolment(request)  # after the tenant check: a foreign id is 404 regardless
    issuer = await token_record(session, credentials.credentials) if credentials else None
    issued = await issue_token(
        session,
        org_id=principal.org_id,
        site_id=site_id,
        created_by=issuer.id if issuer else None,
        valid_for=dt.timedelta(minutes=body.valid_minutes),
        seal=context.seal,
        now=utc_now(),
    )
    detail = {"site_id": site_id, "expires_at": issued.row.expires_at.isoformat()}
    target = f"enrolment_token:{issued.row.id}"
    await audit_log.record(
        session, principal.org_id, principal.actor(), "enrolment_token.issue", target, detail
    )
    await session.commit()
    response.headers.update(_NO_STORE)
    cloud = _cloud_url(context, request)
    return TokenOut(
        id=issued.row.id,
        site_id=site_id,
        token=issued.token,
        short_code=issued.short_code,
        expires_at=issued.row.expires_at,
        enrol_uri=_enrol_uri(cloud, issued.token),
        enrol_command=f"mpm-agent enroll --cloud {cloud} --token={issued.token}",
        qr_path=f"{request.url.path}/{issued.row.id}/qr.png",
    )


@router.get(
    "/sites/{site_id}/enrolment-tokens/{token_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def enrolment_token_qr(
    site_id: int,
    token_id: int,
    request: Request,
    session: SessionDep,
    principal: OrgAdmin,
) -> Response:
    """A PNG QR code of ``mpm-enrol:<cloud url>?token=...``, while the token is unused and unexpired."""
    row = await owned(session, EnrolmentToken, token_id, principal.org_id, "enrolment token")
    if row.site_id != site_id:
        raise not_found("enrolment token", token_id)
    context = await get_enrolment(request)
    token = context.seal.open(row.token_sealed, row.id) if row.token_sealed else None
    why = refusal(row, utc_now()) or (None if token else "this token's QR code can no longer be shown")
    if why or token is None:
        raise problem(410, why or "gone")
    png = await asyncio.to_thread(_qr_bytes, _enrol_uri(_cloud_url(context, request), token))
    return Response(png, media_type="image/png", headers=_NO_STORE)


@router.post("/enrol", status_code=201)
async def enrol(
    body: EnrolIn, request: Request, session: SessionDep, context: EnrolmentDep, publisher: PublisherDep
) -> EnrolOut:
    """Trade an enrolment token and a CSR for a certificate, the CA certificate and the broker URL."""
    address = request.client.host if request.client else "unknown"
    credential = credential_from(body.token)
    if credential is not None and credential.is_short_code:
        wait = context.attempts.retry_after(address)
        if wait is not None:
            headers = {"Retry-After": str(int(wait) + 1)}
            raise problem(429, "too many failed short-code attempts from this address", headers)
    row = await find_token(session, credential) if credential else None
    now = utc_now()
    why = "unknown enrolment token" if row is None else refusal(row, now)
    if row is None or why:
        if credential is None or credential.is_short_code:
            context.attempts.record_failure(address)
        log.warning("enrolment refused from %s: %s", address, why)
        raise problem(401 if row is None else 410, why or "refused")
    agent_id = await new_agent_id(session, row.site_id)
    try:
        certificate = context.authority.sign_agent_csr(body.csr, agent_id)
    except CsrRejected as error:
        raise _bad_csr(str(error)) from error
    if not await claim_token(session, row.id, agent_id, now):
        raise problem(410, "this enrolment token was already used; ask for a new one")
    expires = x509.load_pem_x509_certificate(certificate.encode()).not_valid_after_utc
    session.add(Agent(agent_id=agent_id, org_id=row.org_id, site_id=row.site_id, cert_expires_at=expires))
    detail = {"site_id": row.site_id, "enrolment_token_id": row.id, "address": address}
    await audit_log.record(session, row.org_id, ENROLMENT_ACTOR, "agent.enrol", f"agent:{agent_id}", detail)
    log.info("agent %s enrolled into organisation %s site %s", agent_id, row.org_id, row.site_id)
    await session.commit()
    if publisher is not None:
        publisher.changed(row.org_id)  # its signs get the default ranking, retained, before it connects
    return EnrolOut(
        agent_id=agent_id,
        certificate=certificate,
        ca_certificate=context.authority.certificate_pem,
        mqtt_url=context.agent_mqtt_url,
        site_id=row.site_id,
    )


def _bad_csr(reason: str) -> RequestValidationError:
    """A 422 problem naming the field, like every other invalid request body."""
    return RequestValidationError(
        [{"loc": ("body", "csr"), "msg": f"the CSR is refused: {reason}", "type": "value_error"}]
    )


def _cloud_url(context: EnrolmentContext, request: Request) -> str:
    return context.public_url or str(request.base_url).rstrip("/")


def _enrol_uri(cloud_url: str, token: str) -> str:
    return f"mpm-enrol:{cloud_url}?token={token}"


def _qr_bytes(text: str) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        return qr_png(text, Path(directory) / "qr.png").read_bytes()
