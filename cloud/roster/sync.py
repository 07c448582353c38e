"""Roster sync: compare what each agent's terminals should hold with what was last asked, queue the
difference as idempotent device commands, and mark the devices pending until a receipt comes back.

Per member and agent (a ``RosterTarget``):
- should hold nobody, asked for somebody → ``user_delete`` of the PIN on the devices (the agent writes a
  tombstone first, so a device that comes back later is cleaned too: DEL-2);
- PIN changed, or a biometric kind dropped (consent withdrawn) → ``user_delete`` then ``user_upsert``:
  deleting the user takes its templates with it, the new record brings back card and PIN only;
- otherwise any change → ``user_upsert`` (create or update; the agent lifts a tombstone of that PIN).
Commands live long (``COMMAND_TTL``) and agents keep a persistent MQTT session, so an agent that is
offline gets them on reconnect, in order. A repeat with nothing changed queues nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.models import Agent, DeviceState, Member, RosterDevice, RosterTarget
from cloud.domain import commands
from cloud.roster.intent import (
    BIOMETRIC_KINDS,
    asked_kinds,
    biometric_consenting,
    intended_user,
    member_agents,
)
from cloud.roster.receipts import ANY_DEVICE, refresh

COMMAND_TTL: Final = dt.timedelta(days=7)
RESEND_AFTER: Final = dt.timedelta(seconds=60)


async def sync_members(
    session: AsyncSession, org_id: int, member_ids: Iterable[int] | None = None, *, retry: bool = False
) -> int:
    """Queue the commands that bring the terminals in line for ``member_ids`` (None: everyone).

    Returns how many commands were queued; the caller commits and wakes the publisher. Receipts that
    arrived are taken in first, so a change never hides the outcome of the one before. With ``retry``,
    a target unchanged but failed on a device, or reported pending there (terminal offline), is sent
    again (the reconciliation's repair); without it too, a change the agent never answered though it
    has been online for ``RESEND_AFTER`` since is sent again (a lost command)."""
    await refresh(session, org_id)
    query = select(Member).where(Member.org_id == org_id)
    if member_ids is not None:
        query = query.where(Member.id.in_(list(member_ids)))
    members = list((await session.execute(query)).scalars())
    if not members:
        return 0
    kinds = await asked_kinds(session, members)
    consenting = await biometric_consenting(session, org_id, kinds)
    agents_of = await member_agents(session, org_id)
    targets = await _targets(session, [m.id for m in members])
    agents = {a.id: a for a in (await session.execute(select(Agent).where(Agent.org_id == org_id))).scalars()}
    queued = 0
    for member in members:
        wanted = intended_user(member, kinds[member.id], member.id in consenting)
        for agent_pk in agents_of.get(member.id, set()) | {t.agent_pk for t in targets.get(member.id, [])}:
            agent = agents[agent_pk]
            if agent.retired_at is not None:
                continue
            on_agent = agent_pk in agents_of.get(member.id, set())
            target = next((t for t in targets.get(member.id, []) if t.agent_pk == agent_pk), None)
            queued += await _converge(session, member, agent, target, wanted if on_agent else None, retry)
    return queued


async def _targets(session: AsyncSession, member_ids: list[int]) -> dict[int, list[RosterTarget]]:
    rows = await session.execute(select(RosterTarget).where(RosterTarget.member_id.in_(member_ids)))
    found: dict[int, list[RosterTarget]] = {}
    for target in rows.scalars():
        found.setdefault(target.member_id, []).append(target)
    return found


def plan(
    old_pin: str | None, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """The (command type, PIN) steps that turn ``old`` into ``new`` on the devices."""
    if new == old:
        return []
    if new is None:
        return [("user_delete", old_pin)] if old is not None and old_pin else []
    if old is None:
        return [("user_upsert", new["pin"])]
    dropped_biometric = set(old["credentials"]) & BIOMETRIC_KINDS - set(new["credentials"])
    if old_pin != new["pin"] or dropped_biometric:
        return [("user_delete", old_pin or new["pin"]), ("user_upsert", new["pin"])]
    return [("user_upsert", new["pin"])]


async def _converge(
    session: AsyncSession,
    member: Member,
    agent: Agent,
    target: RosterTarget | None,
    wanted: dict[str, Any] | None,
    retry: bool,
) -> int:
    if target is None:
        if wanted is None:
            return 0
        target = RosterTarget(org_id=member.org_id, member_id=member.id, agent_pk=agent.id, cmd_ids=[])
        session.add(target)
        await session.flush()
    steps = plan(target.pin, target.intended, wanted)
    if not steps and await _send_again(session, agent, target, retry):
        steps = plan(target.pin, None, wanted) or plan(target.pin, {"credentials": []}, None)
    if not steps:
        return 0
    cmd_ids = []
    for command_type, pin in steps:
        args: dict[str, Any] = {"pin": pin}
        if command_type == "user_upsert" and wanted is not None:
            args = {"pin": wanted["pin"], "name": wanted["name"], "card": wanted["card"]}
        cmd_ids.append((await commands.queue(session, agent, command_type, args, COMMAND_TTL)).cmd_id)
    target.intended, target.cmd_ids, target.changed_at = wanted, cmd_ids, utc_now()
    if wanted is not None:
        target.pin = wanted["pin"]
    await _mark_pending(session, target)
    return len(cmd_ids)


async def _mark_pending(session: AsyncSession, target: RosterTarget) -> None:
    """Every known terminal of the target goes pending; with none known, one placeholder row."""
    devices = list(
        (await session.execute(select(RosterDevice).where(RosterDevice.target_id == target.id))).scalars()
    )
    if not devices:
        known = await session.execute(
            select(RosterDevice.device)
            .join(RosterTarget, RosterTarget.id == RosterDevice.target_id)
            .where(RosterTarget.agent_pk == target.agent_pk, RosterDevice.device != ANY_DEVICE)
            .distinct()
        )
        names = list(known.scalars()) or [ANY_DEVICE]
        devices = [RosterDevice(org_id=target.org_id, target_id=target.id, device=n) for n in names]
        session.add_all(devices)
    for device in devices:
        device.state, device.reason, device.updated_at = DeviceState.PENDING, "", utc_now()
    await session.flush()


def _answering_since(agent: Agent, when: dt.datetime) -> bool:
    """Whether the agent reported itself online ``RESEND_AFTER`` past ``when``: a command of ``when``
    still without a receipt was lost (e.g. published before the agent's first session existed)."""
    status = agent.last_status or {}
    seen = agent.last_status_at
    return status.get("state") == "online" and seen is not None and seen > when + RESEND_AFTER


async def _send_again(session: AsyncSession, agent: Agent, target: RosterTarget, retry: bool) -> bool:
    """Whether the unchanged target's last change must be sent again: with ``retry``, a device failed
    or was offline; always, a terminal reported offline is up again in a status after the change, or
    the agent has been online ``RESEND_AFTER`` past the change without answering (a lost command)."""
    rows = await session.execute(
        select(RosterDevice.device, RosterDevice.state, RosterDevice.reason).where(
            RosterDevice.target_id == target.id,
            RosterDevice.state.in_([DeviceState.PENDING, DeviceState.FAILED]),
        )
    )
    status = agent.last_status or {}
    reported = status.get("devices")
    devices: dict[str, Any] = reported if isinstance(reported, dict) else {}
    reported_after = agent.last_status_at is not None and agent.last_status_at > target.changed_at
    lost = _answering_since(agent, target.changed_at)
    for device, state, reason in rows.all():
        offline = state == DeviceState.PENDING and reason != ""
        if retry and (state == DeviceState.FAILED or offline):
            return True
        if offline and reported_after and devices.get(device) == "up":
            return True
        if state == DeviceState.PENDING and not reason and lost:
            return True
    return False
