"""The caller's own organisation (settings) and its audit log; platform admins create organisations."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cloud.api.deps import OrgAdmin, PageDep, PlatformAdmin, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import page_of
from cloud.api.problems import problem
from cloud.api.routes.tokens import token_lifetime
from cloud.api.schemas import OrgOut, Text
from cloud.db.models import AuditEntry, Organisation, OrgKind, Role
from cloud.domain import audit_log
from cloud.domain.orgs import create_org, issue_token

router = APIRouter(tags=["org"])


class OrgSettingsIn(BaseModel):
    """Settings to change; ``sensitive_fields`` maps id_number / birth_date to the purpose (ENC-3)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ranking_close_day": 1,
                    "minors_age": 14,
                    "sensitive_fields": {"birth_date": "age checks for minors"},
                }
            ]
        }
    )

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, examples=["Asia/Shanghai"])
    ranking_close_day: int | None = Field(default=None, ge=1, le=28)
    punch_retention_months: int | None = Field(default=None, ge=1, le=120)
    left_member_retention_years: int | None = Field(default=None, ge=1, le=30)
    minors_age: int | None = Field(default=None, ge=14, le=18)
    sensitive_fields: dict[str, Text] | None = None


class OrgDetailOut(OrgOut):
    settings: dict[str, Any]


class AuditOut(BaseModel):
    seq: int
    action: str
    fields: dict[str, Any]
    hash: str


class AuditVerifyOut(BaseModel):
    intact: bool
    entries: int
    problems: list[str]


class NewOrgIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Sunny School", "kind": "school", "time_zone": "Asia/Shanghai"}]
        }
    )

    name: Text = Field(min_length=1, max_length=200)
    kind: OrgKind
    time_zone: str = Field(default="Asia/Shanghai", examples=["Asia/Shanghai"])


class NewOrgOut(BaseModel):
    organisation: OrgDetailOut
    org_admin_token: str = Field(description="the new organisation's first org-admin token, shown once")


@router.post("/orgs", status_code=201)
async def create_organisation(
    body: NewOrgIn, request: Request, session: SessionDep, principal: PlatformAdmin
) -> NewOrgOut:
    """Create an organisation (platform admins only); answers its first org-admin token."""
    if body.time_zone not in available_timezones():
        raise problem(422, f"unknown time zone {body.time_zone!r}")
    org = await create_org(session, body.name, body.kind, body.time_zone)
    lifetime = token_lifetime(request)
    token = await issue_token(
        session, org.id, Role.ORG_ADMIN, label="created by the platform", lifetime=lifetime
    )
    detail = {"name": body.name, "kind": body.kind.value, "by_org": principal.org_id}
    await audit_log.record(session, org.id, principal.actor(), "org.create", f"organisation:{org.id}", detail)
    await session.commit()
    return NewOrgOut(organisation=OrgDetailOut.model_validate(org), org_admin_token=token)


@router.get("/org")
async def get_org(session: ReadSessionDep, principal: Viewer) -> OrgDetailOut:
    """The organisation the token belongs to, with its settings."""
    return OrgDetailOut.model_validate(await session.get_one(Organisation, principal.org_id))


@router.patch("/org")
async def update_org(body: OrgSettingsIn, session: SessionDep, principal: OrgAdmin) -> OrgDetailOut:
    """Change the organisation's name, time zone or settings (every change is audited)."""
    org = await session.get_one(Organisation, principal.org_id)
    changes = body.model_dump(exclude_none=True)
    if "time_zone" in changes and changes["time_zone"] not in available_timezones():
        raise problem(422, f"unknown time zone {changes['time_zone']!r}")
    if set(changes.get("sensitive_fields", {})) - {"id_number", "birth_date"}:
        raise problem(422, "sensitive_fields may enable only id_number and birth_date")
    org.name = changes.pop("name", org.name)
    org.time_zone = changes.pop("time_zone", org.time_zone)
    org.settings = {**org.settings, **changes}
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "org.update",
        f"organisation:{org.id}",
        body.model_dump(exclude_none=True),
    )
    await session.commit()
    return OrgDetailOut.model_validate(org)


@router.get("/audit")
async def list_audit(
    session: ReadSessionDep, principal: OrgAdmin, page: PageDep, action: str | None = None
) -> list[AuditOut]:
    """The audit log, newest first, optionally one action (e.g. ``ledger.approve``)."""
    query = select(AuditEntry).where(AuditEntry.org_id == principal.org_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    rows = await page_of(session, query.order_by(AuditEntry.seq.desc()), page)
    return [AuditOut(seq=r.seq, action=r.action, fields=json.loads(r.fields), hash=r.hash) for r in rows]


@router.get("/audit/verify")
async def verify_audit(session: ReadSessionDep, principal: OrgAdmin) -> AuditVerifyOut:
    """Check the organisation's audit chain: any edited, removed or reordered entry is reported."""
    problems = await audit_log.verify(session, principal.org_id)
    count = select(AuditEntry.id).where(AuditEntry.org_id == principal.org_id)
    entries = len((await session.execute(count)).all())
    return AuditVerifyOut(intact=not problems, entries=entries, problems=[p.detail for p in problems])
