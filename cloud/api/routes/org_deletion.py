"""``DELETE /org``: the caller's organisation leaves (PRIVACY.md DEL-3); answers the deletion report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from cloud.api.deps import OrgAdmin, SessionDep
from cloud.api.problems import problem
from cloud.api.schemas import Text
from cloud.db.models import Organisation
from cloud.deploy.retirement import RevocationUnavailable, revoke_certificates
from cloud.domain import org_deletion
from cloud.domain.org_deletion import DeviceErasure, no_device_erasure

router = APIRouter(tags=["org"])

# LEAD: wire the roster's fan-out here (issue 11): ``cloud.roster.request_erasure`` adapted to
# ``DeviceErasure``. It is called before anything is deleted, with every member id of the org.
DEVICE_ERASURE: DeviceErasure = no_device_erasure


class OrgDeletionIn(BaseModel):
    """The organisation's current name, typed out: nothing is deleted by a stray request."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"confirm_name": "Acme"}]})

    confirm_name: Text = Field(min_length=1, max_length=200)


class DeletionReportOut(BaseModel):
    organisation_id: int
    deregistered_at: str
    deleted: dict[str, int] = Field(description="rows deleted, per table")
    anonymised: dict[str, str] = Field(description="tables whose rows were kept anonymised, and why")
    agents_retired: list[str]
    certificates_revoked: list[str]
    device_erasure_requests: int
    data_key_shredded: bool
    audit_head_before: str | None = Field(description="the audit chain's head before it was re-chained")
    backups: str


@router.delete("/org")
async def deregister_org(
    body: OrgDeletionIn, request: Request, session: SessionDep, principal: OrgAdmin
) -> DeletionReportOut:
    """Delete or anonymise everything the organisation holds, retire its agents, shred its data key.
    Irreversible; every token of the organisation stops working. The report is also kept as the last
    entry of the organisation's audit log."""
    org = await session.get_one(Organisation, principal.org_id)
    if body.confirm_name != org.name:
        raise problem(422, "confirm_name must be the organisation's current name, exactly")
    token_ids = await org_deletion.org_token_ids(session, principal.org_id)
    settings = request.app.state.settings
    try:
        report = await org_deletion.deregister(
            session,
            principal.org_id,
            principal.actor(),
            revoke=lambda agent_id: revoke_certificates(settings, agent_id).serials,
            device_erasure=DEVICE_ERASURE,
        )
    except RevocationUnavailable as error:
        raise problem(503, f"nothing was deleted: {error}") from error
    except org_deletion.AlreadyDeregistered as error:  # a concurrent request got there first
        raise problem(409, str(error)) from error
    await session.commit()
    for token_id in token_ids:
        request.app.state.principals.forget(token_id)
    return DeletionReportOut(**report.as_dict())
