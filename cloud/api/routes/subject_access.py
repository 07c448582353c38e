"""Data-subject access (PRIVACY.md DSR-1): everything held about one member, machine-readable.

Every personal column of the data map (cloud/privacy/data_map.py) has its place here; the rows of
other tables that name the member and the per-device state come from ``cloud.domain.subject_data``, the
roster, request and calendar sections from ``cloud.domain.subject_roster``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from cloud.api.deps import MasterKeyDep, OrgAdmin, PathId, SessionDep
from cloud.api.lookups import owned
from cloud.api.schemas import LedgerEntryOut, MemberOut, PunchOut
from cloud.api.schemas_ledger import AppealOut
from cloud.api.schemas_people import ConsentOut, SensitiveOut
from cloud.db.models import Appeal, AttendanceCorrection, AttendancePunch, Consent, LedgerEntry, Member
from cloud.domain import audit_log, keys, subject_data, subject_roster

router = APIRouter(prefix="/members", tags=["members"])


class ProfileOut(MemberOut):
    left_at: dt.datetime | None


class SubjectExport(BaseModel):
    profile: ProfileOut
    sensitive: SensitiveOut
    consents: list[ConsentOut]
    ledger: list[LedgerEntryOut]
    ledger_events: list[dict[str, Any]] = Field(
        description="events behind their entries, or submitted by them"
    )
    appeals: list[AppealOut]
    punches: list[PunchOut]
    corrections: list[dict[str, Any]]
    balances: list[dict[str, Any]]
    enrolment: list[dict[str, Any]] = Field(description="enrolment commands per agent and their outcome")
    display_appearances: list[dict[str, Any]] = Field(description="signs showing the member now")
    ranking_snapshots: list[dict[str, Any]] = Field(description="their rows in frozen rankings")
    authority_limits: list[dict[str, Any]]
    api_tokens: list[dict[str, Any]] = Field(description="tokens issued to them (never the secret)")
    audit: list[dict[str, Any]] = Field(description="audit entries about them: who did what, when")
    sites: list[dict[str, Any]] = Field(description="sites they belong to by name")
    credentials: list[dict[str, Any]] = Field(description="credential kinds asked for them")
    roster: list[dict[str, Any]] = Field(description="per terminal: intended and verified record, state")
    roster_checks: list[dict[str, Any]] = Field(description="terminal checks that found their PIN")
    requests: list[dict[str, Any]] = Field(description="their data-subject requests and deadlines")
    leave: list[dict[str, Any]] = Field(description="leave recorded for them")
    shifts: list[dict[str, Any]] = Field(description="the shift assigned to them by name")


@router.get("/{member_id}/export")
async def export_member(
    member_id: PathId, session: SessionDep, principal: OrgAdmin, master: MasterKeyDep
) -> SubjectExport:
    """Everything held about a member: profile, sensitive fields, consents, ledger, attendance (audited)."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    cipher = await keys.field_cipher(session, master, principal.org_id)
    sensitive = {
        name: None if blob is None else cipher.decrypt(name, blob)
        for name, blob in (
            ("phone", member.phone_enc),
            ("id_number", member.id_number_enc),
            ("birth_date", member.birth_date_enc),
            ("guardian_contact", member.guardian_contact_enc),
        )
    }
    entries = await _all(session, select(LedgerEntry).where(LedgerEntry.member_id == member_id))
    entry_ids = [e.id for e in entries]
    export = SubjectExport(
        profile=ProfileOut.model_validate(member),
        sensitive=SensitiveOut(**sensitive),
        consents=[
            ConsentOut.model_validate(c)
            for c in await _all(session, select(Consent).where(Consent.member_id == member_id))
        ],
        ledger=[LedgerEntryOut.model_validate(e) for e in entries],
        appeals=[
            AppealOut.model_validate(a)
            for a in await _all(session, select(Appeal).where(Appeal.entry_id.in_(entry_ids)))
        ],
        punches=[
            PunchOut.model_validate(p)
            for p in await _all(
                session, select(AttendancePunch).where(AttendancePunch.member_id == member_id)
            )
        ],
        corrections=[
            {
                "member_id": c.member_id,
                "day": c.day.isoformat(),
                "reason": c.reason,
                "created_at": c.created_at.isoformat(),
            }
            for c in await _all(
                session, select(AttendanceCorrection).where(AttendanceCorrection.member_id == member_id)
            )
        ],
        enrolment=await subject_data.enrolment(session, member),
        display_appearances=await subject_data.display_appearances(session, member),
        **await subject_data.related_rows(session, member),
        **await subject_roster.roster_sections(session, member),
    )
    await audit_log.record(
        session, principal.org_id, principal.actor(), "member.subject_export", f"member:{member_id}"
    )
    await session.commit()
    return export


async def _all(session: SessionDep, query: Any) -> list[Any]:
    return list((await session.execute(query)).scalars())
