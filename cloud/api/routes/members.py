"""Members: create, list (filter by department/status), get, update, erase; CSV import/export;
sensitive fields (encrypted, every read audited); consents (versioned records)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import (
    Manager,
    MasterKeyDep,
    OrgAdmin,
    PageDep,
    PathId,
    PublisherDep,
    QueryId,
    ReadSessionDep,
    SessionDep,
    Viewer,
)
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.api.schemas import MemberIn, MemberOut, MemberPatch
from cloud.api.schemas_people import (
    ConsentIn,
    ConsentOut,
    ImportReport,
    ImportRowError,
    SensitiveIn,
    SensitiveOut,
)
from cloud.db import plan_cache
from cloud.db.base import utc_now
from cloud.db.models import Consent, Department, Member, MemberStatus, Organisation
from cloud.domain import audit_log, keys, members, ranking_version
from cloud.domain.departments import subtree
from cloud.privacy import normalise_phone
from cloud.roster import request_erasure, sync_members, wake

router = APIRouter(prefix="/members", tags=["members"])

CsvBody = Annotated[
    str, Body(media_type="text/csv", examples=["display_name,pin,department\nAlice,1,Sales\n"])
]
# ENC-3: these fields stay off until the organisation enables them with a purpose (org settings).
OPTIONAL_FIELDS = ("id_number", "birth_date")


async def _check_refs(
    session: AsyncSession, org_id: int, pin: str | None, department_id: int | None, me: int = 0
) -> None:
    if department_id is not None:
        await owned(session, Department, department_id, org_id, "department")
    if pin is not None:
        taken = select(Member.id).where(Member.org_id == org_id, Member.pin == pin, Member.id != me)
        if (await session.execute(taken)).first():
            raise problem(409, f"PIN {pin!r} already belongs to another member")


@router.post("", status_code=201)
async def create_member(
    body: MemberIn, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> MemberOut:
    """Create a member; a terminal PIN is unique within the organisation. The roster follows (sites)."""
    await _check_refs(session, principal.org_id, body.pin, body.department_id)
    member = Member(org_id=principal.org_id, **body.model_dump())
    session.add(member)
    await session.flush()
    await audit_log.record(
        session, principal.org_id, principal.actor(), "member.create", f"member:{member.id}"
    )
    await sync_members(session, principal.org_id, [member.id])
    await session.commit()
    wake(publisher, principal.org_id)
    return MemberOut.model_validate(member)


@router.get("")
async def list_members(
    session: ReadSessionDep,
    principal: Viewer,
    page: PageDep,
    department_id: QueryId = None,
    status: MemberStatus | None = None,
) -> list[MemberOut]:
    """The organisation's members, optionally of one department (with its sub-departments) or status."""
    query = select(Member).where(Member.org_id == principal.org_id)
    if department_id is not None:
        query = query.where(Member.department_id.in_(await subtree(session, principal.org_id, department_id)))
    if status is not None:
        query = query.where(Member.status == status.value)
    return [MemberOut.model_validate(m) for m in await page_of(session, query.order_by(Member.id), page)]


@router.post("/import")
async def import_members(body: CsvBody, session: SessionDep, principal: OrgAdmin) -> ImportReport:
    """Create members from CSV; bad rows are skipped and reported by line, good rows are imported."""
    created, errors = await members.import_csv(session, principal.org_id, body)
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "member.import",
        "member:*",
        {"created": created, "bad_rows": len(errors)},
    )
    await session.commit()
    if created:
        await plan_cache.refresh_statistics(session, Member.__tablename__)
        await session.commit()
    return ImportReport(created=created, errors=[ImportRowError(row=r, message=m) for r, m in errors])


@router.get("/export", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_members(session: SessionDep, principal: OrgAdmin) -> Response:
    """Every member as CSV (no sensitive fields); the export is audited."""
    text = await members.export_csv(session, principal.org_id)
    await audit_log.record(session, principal.org_id, principal.actor(), "member.export", "member:*")
    await session.commit()
    return Response(text, media_type="text/csv")


@router.get("/{member_id}")
async def get_member(member_id: PathId, session: ReadSessionDep, principal: Viewer) -> MemberOut:
    """One member (sensitive fields are not part of this answer)."""
    return MemberOut.model_validate(await owned(session, Member, member_id, principal.org_id, "member"))


@router.patch("/{member_id}")
async def update_member(
    member_id: PathId, body: MemberPatch, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> MemberOut:
    """Change a member's names, PIN, card, department or status (active / left)."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    if member.status == MemberStatus.ERASED:
        raise problem(409, f"member {member_id} is erased")
    changes = body.model_dump(exclude_unset=True)
    await _check_refs(session, principal.org_id, changes.get("pin"), changes.get("department_id"), member_id)
    for name, value in changes.items():
        setattr(member, name, value)
    if changes.get("status") == MemberStatus.LEFT:
        member.left_at = utc_now()
    await ranking_version.bump(session, principal.org_id)  # rankings show names and departments
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "member.update",
        f"member:{member_id}",
        {"fields": sorted(changes)},
    )
    await sync_members(session, principal.org_id, [member_id])
    await session.commit()
    wake(publisher, principal.org_id)
    return MemberOut.model_validate(member)


@router.post("/{member_id}/erase")
async def erase_member(
    member_id: PathId, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> MemberOut:
    """Erase a member (DEL-1): personal fields wiped, ledger kept under a pseudonym, balances intact;
    deleted from every terminal and off the signs (its request: ``GET /roster/requests``)."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    await request_erasure(session, principal.org_id, [member_id], "POST /members/{id}/erase")
    await audit_log.record(
        session, principal.org_id, principal.actor(), "member.erase", f"member:{member_id}"
    )
    await session.commit()
    wake(publisher, principal.org_id, signs=True)
    return MemberOut.model_validate(member)


@router.put("/{member_id}/sensitive")
async def set_sensitive(
    member_id: PathId, body: SensitiveIn, session: SessionDep, principal: OrgAdmin, master: MasterKeyDep
) -> Response:
    """Set sensitive fields (encrypted with the organisation's key; phone also as a keyed hash)."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    org = await session.get_one(Organisation, principal.org_id)
    enabled = org.settings.get("sensitive_fields", {})
    given = body.model_dump(exclude_none=True)
    if refused := [f for f in OPTIONAL_FIELDS if f in given and f not in enabled]:
        raise problem(422, f"{', '.join(refused)} is off for this organisation (enable it with a purpose)")
    cipher = await keys.field_cipher(session, master, principal.org_id)
    if body.phone is not None:
        try:
            phone = normalise_phone(body.phone)
        except ValueError as exc:
            raise problem(422, str(exc)) from None
        member.phone_enc = cipher.encrypt("phone", phone)
        member.phone_hmac = await keys.phone_lookup(session, master, principal.org_id, phone)
    for name in ("id_number", "birth_date", "guardian_contact"):
        if name in given:
            setattr(member, f"{name}_enc", cipher.encrypt(name, str(given[name])))
    if body.birth_date is not None:
        member.birth_year = body.birth_date.year  # MIN-1: minors are decided without decrypting
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "member.sensitive.write",
        f"member:{member_id}",
        {"fields": sorted(given)},
    )
    await session.commit()
    return Response(status_code=204)


@router.get("/{member_id}/sensitive")
async def get_sensitive(
    member_id: PathId, session: SessionDep, principal: OrgAdmin, master: MasterKeyDep
) -> SensitiveOut:
    """Decrypt a member's sensitive fields; every read is written to the audit log."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    cipher = await keys.field_cipher(session, master, principal.org_id)
    values = {
        name: None if blob is None else cipher.decrypt(name, blob)
        for name, blob in (
            ("phone", member.phone_enc),
            ("id_number", member.id_number_enc),
            ("birth_date", member.birth_date_enc),
            ("guardian_contact", member.guardian_contact_enc),
        )
    }
    await audit_log.record(
        session, principal.org_id, principal.actor(), "member.sensitive.read", f"member:{member_id}"
    )
    await session.commit()
    return SensitiveOut(**values)


@router.post("/{member_id}/consents", status_code=201)
async def record_consent(
    member_id: PathId, body: ConsentIn, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> ConsentOut:
    """Record a consent decision (grant or withdrawal); earlier records stay as history.

    A minor's grants must come from the guardian (MIN-1): a grant by ``self`` answers 409."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    if body.granted and body.actor == "self":
        org = await session.get_one(Organisation, principal.org_id)
        if members.is_minor(member, members.minors_age(org), utc_now().year):
            raise problem(409, f"member {member_id} is a minor: a grant needs the guardian (actor guardian)")
    consent = Consent(org_id=principal.org_id, member_id=member.id, **body.model_dump())
    session.add(consent)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "consent.record",
        f"member:{member_id}",
        body.model_dump(),
    )
    await sync_members(session, principal.org_id, [member_id])  # a withdrawal leaves the devices (CON-2)
    await session.commit()
    wake(publisher, principal.org_id, signs=True)
    return ConsentOut.model_validate(consent)


@router.get("/{member_id}/consents")
async def list_consents(
    member_id: PathId, session: ReadSessionDep, principal: Viewer, page: PageDep
) -> list[ConsentOut]:
    """A member's consent history, newest first (the newest per kind is in force)."""
    await owned(session, Member, member_id, principal.org_id, "member")
    query = select(Consent).where(Consent.org_id == principal.org_id, Consent.member_id == member_id)
    return [
        ConsentOut.model_validate(c) for c in await page_of(session, query.order_by(Consent.id.desc()), page)
    ]
