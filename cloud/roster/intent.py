"""What each member should be on the terminals: their sites, credential kinds and the user record.

Rules (PRIVACY.md CON-1, MIN-1, BIO-3):
- Credential kinds are ``pin`` (typed at the keypad), ``card``, ``face``, ``fingerprint``. Without a row
  of their own a member is asked for ``pin``, plus ``card`` when they have a card number.
- A biometric kind is intended only while the member's newest biometric consent is a grant, given by the
  guardian when the member is a minor; otherwise it is dropped (a withdrawal removes it from devices).
- Every intended user keeps a non-biometric kind: asking for biometric kinds only is refused.
- Only active members with a PIN are on terminals; the name shown is the display name, cut to what a
  terminal stores. Templates and pictures are never part of the record: faces are enrolled at the device.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import (
    Agent,
    Consent,
    ConsentKind,
    Member,
    MemberStatus,
    RosterCredentials,
    RosterSiteLink,
)
from cloud.domain.departments import parents
from cloud.domain.members import minor_clause

BIOMETRIC_KINDS: Final = frozenset({"face", "fingerprint"})
NON_BIOMETRIC_KINDS: Final = frozenset({"pin", "card"})
CREDENTIAL_KINDS: Final = BIOMETRIC_KINDS | NON_BIOMETRIC_KINDS
MAX_NAME_CHARS: Final = 24  # what the agent's user_upsert accepts
MAX_CARD: Final = 2**32 - 1


class Refused(Exception):
    """A roster change the privacy rules forbid; ``str()`` is the reason (the API answers 409)."""


def default_kinds(member: Member) -> list[str]:
    return ["card", "pin"] if member.card else ["pin"]


def card_number(member: Member) -> int:
    """The card as the terminals store it (an integer); 0 for none or a number they cannot hold."""
    card = member.card or ""
    return int(card) if card.isdigit() and int(card) <= MAX_CARD else 0


def check_kinds(member: Member, kinds: Collection[str], biometric_consent: bool) -> None:
    """Raise ``Refused`` unless ``kinds`` may be asked for ``member`` (BIO-3, CON-1, MIN-1)."""
    if unknown := set(kinds) - CREDENTIAL_KINDS:
        raise Refused(f"unknown credential kinds {sorted(unknown)}; known: {sorted(CREDENTIAL_KINDS)}")
    if not set(kinds) & NON_BIOMETRIC_KINDS:
        raise Refused("BIO-3: a member always keeps a card or PIN; biometric credentials alone are refused")
    if "card" in kinds and not card_number(member):
        raise Refused(f"member {member.id} has no card number a terminal can store")
    if set(kinds) & BIOMETRIC_KINDS and not biometric_consent:
        raise Refused(
            f"member {member.id} has no current biometric consent"
            " (a minor's must come from the guardian): no biometric enrolment"
        )


async def biometric_consenting(session: AsyncSession, org_id: int, member_ids: Iterable[int]) -> set[int]:
    """Members whose newest biometric consent is a grant, by the guardian for minors."""
    ids = list(member_ids)
    newest = (
        select(func.max(Consent.id))
        .where(Consent.org_id == org_id, Consent.kind == ConsentKind.BIOMETRIC, Consent.member_id.in_(ids))
        .group_by(Consent.member_id)
    )
    minors = select(Member.id).where(Member.org_id == org_id, minor_clause(org_id, utc_now().year))
    query = select(Consent.member_id).where(
        Consent.id.in_(newest),
        Consent.granted.is_(True),
        or_(Consent.actor == "guardian", ~Consent.member_id.in_(minors)),
    )
    return set((await session.execute(query)).scalars())


async def asked_kinds(session: AsyncSession, members: Iterable[Member]) -> dict[int, list[str]]:
    """Each member's asked credential kinds (their row, else the default)."""
    by_id = {m.id: m for m in members}
    rows = await session.execute(
        select(RosterCredentials.member_id, RosterCredentials.kinds).where(
            RosterCredentials.member_id.in_(list(by_id))
        )
    )
    asked = {member_id: list(kinds) for member_id, kinds in rows.all()}
    return {ident: asked.get(ident) or default_kinds(m) for ident, m in by_id.items()}


def intended_user(member: Member, kinds: Collection[str], biometric_consent: bool) -> dict[str, Any] | None:
    """The user record the terminals should hold for ``member``; None when they should not hold one."""
    if member.status != MemberStatus.ACTIVE or not member.pin:
        return None
    allowed = {k for k in kinds if k not in BIOMETRIC_KINDS or biometric_consent}
    if not card_number(member):
        allowed.discard("card")
    if not allowed & NON_BIOMETRIC_KINDS:
        allowed.add("pin")  # BIO-3 holds even for a record written before the card was removed
    return {
        "pin": member.pin,
        "name": member.display_name[:MAX_NAME_CHARS],
        "card": card_number(member),
        "credentials": sorted(allowed),
    }


async def member_agents(session: AsyncSession, org_id: int) -> dict[int, set[int]]:
    """Member id → the live agents of the sites they belong to (directly or through a department)."""
    links = (await session.execute(select(RosterSiteLink).where(RosterSiteLink.org_id == org_id))).scalars()
    agent_rows = await session.execute(
        select(Agent.site_id, Agent.id).where(
            Agent.org_id == org_id, Agent.retired_at.is_(None), Agent.site_id.is_not(None)
        )
    )
    agents_of_site: dict[int | None, set[int]] = {}
    for site_id, agent_pk in agent_rows.all():
        agents_of_site.setdefault(site_id, set()).add(agent_pk)
    tree = await parents(session, org_id)
    members = await session.execute(select(Member.id, Member.department_id).where(Member.org_id == org_id))
    department_sites: dict[int, set[int]] = {}
    direct: dict[int, set[int]] = {}
    for link in links:
        if link.department_id is not None:
            department_sites.setdefault(link.department_id, set()).add(link.site_id)
        if link.member_id is not None:
            direct.setdefault(link.member_id, set()).add(link.site_id)
    result: dict[int, set[int]] = {}
    for member_id, department_id in members.all():
        sites = set(direct.get(member_id, set()))
        node = department_id
        while node is not None:  # a department's site covers its whole subtree
            sites |= department_sites.get(node, set())
            node = tree.get(node)
        result[member_id] = {a for s in sites for a in agents_of_site.get(s, set())}
    return result
