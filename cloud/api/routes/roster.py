"""The roster: which sites members belong to, what every terminal should hold and was seen to hold,
credential kinds (consent-gated), a resync and a reconciliation (data-subject requests: roster_requests).

Receipts from the agents are taken in whenever the roster or a request is read, and by ``POST /roster/sync``.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import Manager, OrgAdmin, PageDep, PathId, PublisherDep, SessionDep, Viewer
from cloud.api.lookups import agent_by_id, owned
from cloud.api.problems import problem
from cloud.api.schemas_roster import (
    ChecksOut,
    CredentialsIn,
    DeviceEntryOut,
    DeviceOut,
    FindingOut,
    MemberRosterOut,
    SiteLinksIn,
    SiteLinksOut,
    SyncOut,
    TargetOut,
)
from cloud.db.base import utc_now
from cloud.db.models import (
    Agent,
    Department,
    Member,
    RosterCredentials,
    RosterDevice,
    RosterSiteLink,
    RosterTarget,
    Site,
)
from cloud.domain import audit_log
from cloud.roster import (
    Refused,
    biometric_consenting,
    check_kinds,
    findings,
    start_checks,
    sync_members,
)
from cloud.roster.intake import take_receipts
from cloud.roster.intent import asked_kinds
from cloud.roster.notify import wake

router = APIRouter(prefix="/roster", tags=["roster"])


async def _links(session: AsyncSession, site_id: int) -> SiteLinksOut:
    rows = (await session.execute(select(RosterSiteLink).where(RosterSiteLink.site_id == site_id))).scalars()
    links = list(rows)
    return SiteLinksOut(
        site_id=site_id,
        department_ids=sorted(x.department_id for x in links if x.department_id is not None),
        member_ids=sorted(x.member_id for x in links if x.member_id is not None),
        commands_queued=0,
    )


@router.put("/sites/{site_id}/links")
async def set_site_links(
    site_id: PathId, body: SiteLinksIn, session: SessionDep, principal: OrgAdmin, publisher: PublisherDep
) -> SiteLinksOut:
    """Replace a site's people; every terminal of the site's agents is brought in line."""
    org_id = principal.org_id
    await owned(session, Site, site_id, org_id, "site")
    for department_id in set(body.department_ids):
        await owned(session, Department, department_id, org_id, "department")
    for member_id in set(body.member_ids):
        await owned(session, Member, member_id, org_id, "member")
    await session.execute(delete(RosterSiteLink).where(RosterSiteLink.site_id == site_id))
    session.add_all(
        [RosterSiteLink(org_id=org_id, site_id=site_id, department_id=d) for d in set(body.department_ids)]
        + [RosterSiteLink(org_id=org_id, site_id=site_id, member_id=m) for m in set(body.member_ids)]
    )
    await session.flush()
    queued = await sync_members(session, org_id)
    detail = body.model_dump(mode="json") | {"commands_queued": queued}
    await audit_log.record(session, org_id, principal.actor(), "roster.site_links", f"site:{site_id}", detail)
    out = (await _links(session, site_id)).model_copy(update={"commands_queued": queued})
    await session.commit()
    wake(publisher, org_id)
    return out


@router.get("/sites/{site_id}/links")
async def get_site_links(site_id: PathId, session: SessionDep, principal: Viewer) -> SiteLinksOut:
    """A site's departments and members."""
    await owned(session, Site, site_id, principal.org_id, "site")
    return await _links(session, site_id)


@router.put("/members/{member_id}/credentials")
async def set_credentials(
    member_id: PathId, body: CredentialsIn, session: SessionDep, principal: Manager, publisher: PublisherDep
) -> MemberRosterOut:
    """Ask for credential kinds; biometric ones need a current consent (a guardian's for a minor), and
    a card or PIN always stays (BIO-3): refusals answer 409 with the reason."""
    org_id = principal.org_id
    member = await owned(session, Member, member_id, org_id, "member")
    consenting = await biometric_consenting(session, org_id, [member_id])
    try:
        check_kinds(member, body.kinds, member_id in consenting)
    except Refused as refused:
        raise problem(409, str(refused)) from None
    row = await session.get(RosterCredentials, member_id)
    if row is None:
        row = RosterCredentials(member_id=member_id, org_id=org_id, kinds=[])
        session.add(row)
    row.kinds, row.updated_at = sorted(set(body.kinds)), utc_now()
    await session.flush()
    await sync_members(session, org_id, [member_id])
    detail = {"kinds": row.kinds}
    await audit_log.record(
        session, org_id, principal.actor(), "roster.credentials", f"member:{member_id}", detail
    )
    out = await _member_roster(session, member)
    await session.commit()
    wake(publisher, org_id)
    return out


async def _member_roster(session: AsyncSession, member: Member) -> MemberRosterOut:
    targets = await session.execute(
        select(RosterTarget, Agent.agent_id)
        .join(Agent, Agent.id == RosterTarget.agent_pk)
        .where(RosterTarget.member_id == member.id)
        .order_by(Agent.agent_id)
    )
    agents = []
    for target, agent_id in targets.all():
        devices = await session.execute(
            select(RosterDevice).where(RosterDevice.target_id == target.id).order_by(RosterDevice.device)
        )
        agents.append(
            TargetOut(
                agent_id=agent_id,
                intended=target.intended,
                changed_at=target.changed_at,
                devices=[DeviceOut.model_validate(d, from_attributes=True) for d in devices.scalars()],
            )
        )
    kinds = (await asked_kinds(session, [member]))[member.id]
    return MemberRosterOut(member_id=member.id, credentials=kinds, agents=agents)


@router.get("/members/{member_id}")
async def get_member_roster(member_id: PathId, session: SessionDep, principal: Viewer) -> MemberRosterOut:
    """A member on every agent's terminals: intended, verified, pending or failed with the reason."""
    member = await owned(session, Member, member_id, principal.org_id, "member")
    await take_receipts(session, principal.org_id)
    out = await _member_roster(session, member)
    await session.commit()
    return out


@router.get("/devices/{agent_id}/{device}")
async def get_device_roster(
    agent_id: str, device: str, session: SessionDep, principal: Viewer, page: PageDep
) -> list[DeviceEntryOut]:
    """Everyone one terminal should hold or held: intended, verified, and where the change stands."""
    agent = await agent_by_id(session, agent_id, principal.org_id)
    await take_receipts(session, principal.org_id)
    query = (
        select(RosterTarget, RosterDevice)
        .join(RosterDevice, RosterDevice.target_id == RosterTarget.id)
        .where(RosterTarget.agent_pk == agent.id, RosterDevice.device == device)
        .order_by(RosterTarget.member_id)
    )
    rows = (await session.execute(query.limit(page.limit).offset(page.offset))).all()
    await session.commit()
    return [
        DeviceEntryOut(
            member_id=t.member_id, intended=t.intended, verified=d.verified, state=d.state, reason=d.reason
        )
        for t, d in rows
    ]


@router.post("/sync")
async def resync(session: SessionDep, principal: OrgAdmin, publisher: PublisherDep) -> SyncOut:
    """Take in the receipts, then queue whatever brings every terminal in line with the roster, and
    send again what failed on a device or waited for an offline terminal."""
    applied, closed = await take_receipts(session, principal.org_id)
    queued = await sync_members(session, principal.org_id, retry=True)
    detail = {"commands_queued": queued, "receipts_applied": applied, "requests_closed": closed}
    await audit_log.record(session, principal.org_id, principal.actor(), "roster.sync", "roster:*", detail)
    await session.commit()
    wake(publisher, principal.org_id)
    return SyncOut(commands_queued=queued, receipts_applied=applied, requests_closed=closed)


@router.post("/reconcile", status_code=202)
async def reconcile(session: SessionDep, principal: OrgAdmin, publisher: PublisherDep) -> ChecksOut:
    """Ask every agent to read its terminals' users: missing people are sent again at the next sync,
    people no roster entry explains become findings (``GET /roster/findings``)."""
    started = await start_checks(session, principal.org_id)
    detail = {"checks_queued": started}
    await audit_log.record(
        session, principal.org_id, principal.actor(), "roster.reconcile", "roster:*", detail
    )
    await session.commit()
    wake(publisher, principal.org_id)
    return ChecksOut(checks_queued=started)


@router.get("/findings")
async def list_findings(session: SessionDep, principal: Viewer) -> list[FindingOut]:
    """Users found on terminals by the latest check of each agent that the roster does not put there."""
    await take_receipts(session, principal.org_id)
    out = [FindingOut(**dataclasses.asdict(f)) for f in await findings(session, principal.org_id)]
    await session.commit()
    return out
