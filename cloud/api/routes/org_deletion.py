"""``DELETE /org``: the caller's organisation leaves (PRIVACY.md DEL-3), in two phases.

First its people leave the devices: erasure requests for everyone on a terminal, answered 202 while any
is open (``cloud.roster.leaving``); repeated once ``GET /roster/requests`` shows them closed (or with
``force``), the call deletes the organisation's data and answers the deletion report."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cloud.api.deps import OrgAdmin, SessionDep
from cloud.api.problems import problem
from cloud.api.schemas import Text
from cloud.db.models import Organisation
from cloud.deploy.retirement import RevocationUnavailable, revoke_certificates
from cloud.domain import org_deletion
from cloud.roster import wake
from cloud.roster.leaving import DeviceErasures, erase_from_devices

router = APIRouter(tags=["org"])


class OrgDeletionIn(BaseModel):
    """The organisation's current name, typed out: nothing is deleted by a stray request."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"confirm_name": "Acme"}]})

    confirm_name: Text = Field(min_length=1, max_length=200)
    force: bool = Field(
        default=False,
        description="delete now, even while some devices have not confirmed the erasure (an agent that "
        "will never come back); the report counts them",
    )


class OrgLeavingOut(BaseModel):
    """Phase one: the people are being erased from the devices; nothing is deleted yet."""

    state: Literal["erasing_devices"] = "erasing_devices"
    erasure_requests_made_now: int
    erasure_requests_open: int
    erasure_requests_verified: int
    detail: str


class DeletionReportOut(BaseModel):
    organisation_id: int
    deregistered_at: str
    deleted: dict[str, int] = Field(description="rows deleted, per table")
    anonymised: dict[str, str] = Field(description="tables whose rows were kept anonymised, and why")
    agents_retired: list[str]
    certificates_revoked: list[str]
    device_erasure_requests: int
    device_erasures_unconfirmed: int = Field(description="open erasure requests when deletion was forced")
    data_key_shredded: bool
    audit_head_before: str | None = Field(description="the audit chain's head before it was re-chained")
    backups: str


@router.delete("/org", responses={202: {"model": OrgLeavingOut, "description": "erasing from devices"}})
async def deregister_org(
    body: OrgDeletionIn, request: Request, response: Response, session: SessionDep, principal: OrgAdmin
) -> DeletionReportOut | OrgLeavingOut:
    """Leave: first erase every member from every device (202 while any erasure is unconfirmed; call
    again), then delete or anonymise everything the organisation holds, retire its agents and shred its
    data key. Irreversible; every token of the organisation stops working. The report is also kept as
    the last entry of the organisation's audit log."""
    org = await session.get_one(Organisation, principal.org_id)
    if body.confirm_name != org.name:
        raise problem(422, "confirm_name must be the organisation's current name, exactly")
    erasures = await erase_from_devices(session, principal.org_id)
    if erasures.open and not body.force:
        await session.commit()
        wake(request.app.state.publisher, principal.org_id, signs=True)
        response.status_code = 202
        return _leaving(erasures)
    token_ids = await org_deletion.org_token_ids(session, principal.org_id)
    settings = request.app.state.settings
    try:
        report = await org_deletion.deregister(
            session,
            principal.org_id,
            principal.actor(),
            revoke=lambda agent_id: revoke_certificates(settings, agent_id).serials,
            device_erasure_requests=erasures.open + erasures.verified,
        )
    except RevocationUnavailable as error:
        raise problem(503, f"nothing was deleted: {error}") from error
    except org_deletion.AlreadyDeregistered as error:  # a concurrent request got there first
        raise problem(409, str(error)) from error
    await session.commit()
    for token_id in token_ids:
        request.app.state.principals.forget(token_id)
    return DeletionReportOut(**report.as_dict(), device_erasures_unconfirmed=erasures.open)


def _leaving(erasures: DeviceErasures) -> OrgLeavingOut:
    return OrgLeavingOut(
        erasure_requests_made_now=erasures.requested_now,
        erasure_requests_open=erasures.open,
        erasure_requests_verified=erasures.verified,
        detail="the members are being erased from the site devices; nothing is deleted yet. Repeat this "
        "call when GET /api/v1/roster/requests shows the erasures closed, or with force=true",
    )
