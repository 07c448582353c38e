"""The parts of a subject export beyond the member's own rows (PRIVACY.md DSR-1, cloud/privacy/data_map.py).

- Enrolment state per device, as far as the cloud knows it: the enrolment commands sent to agents
  for the member's PIN (``user_upsert`` / ``user_delete``) and where each stands (queued, delivered,
  succeeded or failed, from the agent's ``cmd_result``). The roster's per-device table adds to this.
- Display appearances: the signs whose content shows the member now. The cloud keeps no history of
  what signs showed, so "now" is all it can answer; ranking kinds are matched by member id, the
  latest-events kind by the masked name it prints.
- Audit: entries whose target is the member (who read, changed, exported or erased their data).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import (
    Agent,
    AgentCommand,
    ApiToken,
    AuditEntry,
    AuthorityLimit,
    Balance,
    Display,
    LedgerEntry,
    LedgerEvent,
    Member,
    Organisation,
    RankingSnapshot,
)
from cloud.displays import kinds
from cloud.displays.kinds import Kind, mask
from cloud.domain import commands, ranking
from cloud.domain.periods import PeriodKind, local_date, period_key

ENROLMENT_COMMANDS: Final = ("user_upsert", "user_delete")
RANKING_KINDS: Final = (Kind.TOP_N, Kind.RED_LIST, Kind.BLACK_LIST)


async def enrolment(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    """Every enrolment command for the member's PIN, per agent, with its outcome."""
    if member.pin is None:
        return []
    query = (
        select(AgentCommand, Agent.agent_id)
        .join(Agent, Agent.id == AgentCommand.agent_pk)
        .where(
            AgentCommand.org_id == member.org_id,
            AgentCommand.type.in_(ENROLMENT_COMMANDS),
            AgentCommand.args["pin"].as_string() == member.pin,
        )
        .order_by(AgentCommand.id)
    )
    rows = []
    for command, agent_id in (await session.execute(query)).all():
        outcome = await commands.outcome(session, command)
        rows.append(
            {
                "agent_id": agent_id,
                "command": command.type,
                "args": command.args,
                "status": outcome.status.value,
                "detail": outcome.detail,
                "queued_at": command.created_at.isoformat(),
            }
        )
    return rows


async def display_appearances(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    """The signs showing the member now: agent, sign, title, audience, and the name as shown."""
    org = await session.get_one(Organisation, member.org_id)
    month = period_key(PeriodKind.MONTH, local_date(dt.datetime.now(dt.UTC), org.time_zone))
    query = (
        select(Display, Agent.agent_id)
        .join(Agent, Agent.id == Display.agent_pk)
        .where(Display.org_id == member.org_id, Agent.retired_at.is_(None))
        .order_by(Display.id)
    )
    shown = []
    for display, agent_id in (await session.execute(query)).all():
        name = await _shown_as(session, display, member, month)
        if name is not None:
            shown.append(
                {
                    "agent_id": agent_id,
                    "sign": display.sign,
                    "title": display.title,
                    "audience": display.audience,
                    "content_kind": display.content_kind,
                    "shown_as": name,
                }
            )
    return shown


async def _shown_as(session: AsyncSession, display: Display, member: Member, month: str) -> str | None:
    if display.content_kind in RANKING_KINDS:
        if display.content_kind in kinds.RED_BLACK and not display.show_red_black:
            return None
        order = ranking.Order.BOTTOM if display.content_kind == Kind.BLACK_LIST else ranking.Order.TOP
        # kinds._scope is the projection's own scope (public displays: consenting members only).
        ranked = await ranking.ranked(session, kinds._scope(display, month), display.size, order=order)
        return next((r.display_name for r in ranked if r.member_id == member.id), None)
    if display.content_kind == Kind.LATEST_EVENTS:
        masked = mask(member.display_name)
        lines = await kinds.latest_event_lines(session, display)
        return masked if any(line.startswith(masked + " ") for line in lines) else None
    return None


async def related_rows(session: AsyncSession, member: Member) -> dict[str, list[dict[str, Any]]]:
    """Rows of other tables that name the member (data map: balances, tokens, events, snapshots…)."""
    mid = member.id
    entry_events = select(LedgerEntry.event_id).where(LedgerEntry.member_id == mid)
    events = await _rows(
        session,
        select(LedgerEvent)
        .where((LedgerEvent.submitted_by_member_id == mid) | LedgerEvent.id.in_(entry_events))
        .order_by(LedgerEvent.id),
    )
    snapshots = await _rows(
        session,
        select(RankingSnapshot).where(RankingSnapshot.org_id == member.org_id).order_by(RankingSnapshot.id),
    )
    target = json.dumps({"target": f"member:{mid}"}, separators=(",", ":"))[1:-1]
    audit = await _rows(
        session,
        select(AuditEntry)
        .where(AuditEntry.org_id == member.org_id, AuditEntry.fields.contains(target, autoescape=True))
        .order_by(AuditEntry.seq),
    )
    return {
        "balances": [
            {k: getattr(b, k) for k in ("member_id", "point_type_id", "period_kind", "period_key", "points")}
            for b in await _rows(
                session, select(Balance).where(Balance.member_id == mid).order_by(Balance.id)
            )
        ],
        "ledger_events": [
            {
                "id": e.id,
                "reason": e.reason,
                "status": e.status,
                "submitted_by_member_id": e.submitted_by_member_id,
                "decided_at": _iso(e.decided_at),
                "decision_comment": e.decision_comment,
                "created_at": _iso(e.created_at),
            }
            for e in events
        ],
        "authority_limits": [
            {
                "manager_member_id": a.manager_member_id,
                "point_type_id": a.point_type_id,
                "max_points": a.max_points,
                "created_at": _iso(a.created_at),
            }
            for a in await _rows(
                session, select(AuthorityLimit).where(AuthorityLimit.manager_member_id == mid)
            )
        ],
        "api_tokens": [
            {
                "id": t.id,
                "member_id": t.member_id,
                "role": t.role,
                "label": t.label,
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in await _rows(
                session, select(ApiToken).where(ApiToken.member_id == mid).order_by(ApiToken.id)
            )
        ],
        "ranking_snapshots": [
            {"snapshot_id": s.id, "period_kind": s.period_kind, "period_key": s.period_key, **row}
            for s in snapshots
            for row in s.rows
            if row.get("member_id") == mid
        ],
        "audit": [_audit_row(entry.seq, json.loads(entry.fields)) for entry in audit],
    }


def _audit_row(seq: int, fields: dict[str, Any]) -> dict[str, Any]:
    return {"seq": seq, "action": fields.get("action"), "at": fields.get("at"), "actor": fields.get("actor")}


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.execute(query)).scalars())


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
