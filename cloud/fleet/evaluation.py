"""Raise and resolve alerts from the conditions that hold now; queue their webhook deliveries.

One evaluation covers every organisation in a fixed number of statements: agents, rules and open
alerts are read once each; new alerts are inserted together, ended ones resolved by one UPDATE, and
each raise or resolve queues one delivery per webhook of its organisation, in the same transaction
(so an alert is never raised without its notice being queued, nor notified twice).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Agent, Alert, AlertRules, AlertWebhook, WebhookDelivery
from cloud.fleet.rules import AgentHealth, AlertRuleSet, Condition, conditions


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    """The alerts one evaluation raised and resolved."""

    raised: Sequence[Alert]
    resolved: Sequence[Alert]


async def rules_by_org(
    session: AsyncSession, org_ids: Iterable[int] | None = None
) -> dict[int, AlertRuleSet]:
    """Each organisation's own rules (organisations without a row use the defaults)."""
    query = select(AlertRules.org_id, AlertRules.rules)
    if org_ids is not None:
        query = query.where(AlertRules.org_id.in_(list(org_ids)))
    return {org_id: AlertRuleSet.model_validate(rules) for org_id, rules in await session.execute(query)}


async def agents_health(session: AsyncSession, org_id: int | None = None) -> list[AgentHealth]:
    """What the rules read of every agent in service (of ``org_id``, or of all organisations)."""
    query = select(
        Agent.org_id, Agent.agent_id, Agent.last_status, Agent.last_status_at, Agent.cert_expires_at
    ).where(Agent.retired_at.is_(None))
    if org_id is not None:
        query = query.where(Agent.org_id == org_id)
    return [
        AgentHealth(org_id=o, agent_id=a, last_status=s, last_status_at=at, cert_expires_at=c)
        for o, a, s, at, c in await session.execute(query.order_by(Agent.id))
    ]


async def evaluate(session: AsyncSession, now: dt.datetime) -> Evaluation:
    """Bring the open alerts in line with the conditions holding ``now``; the caller commits."""
    holding = _by_org_key(conditions(await agents_health(session), await rules_by_org(session), now))
    open_alerts = {
        (a.org_id, a.key): a
        for a in (await session.scalars(select(Alert).where(Alert.resolved_at.is_(None))))
    }
    raised = [_alert(c, now) for org_key, c in holding.items() if org_key not in open_alerts]
    ended = [a for org_key, a in open_alerts.items() if org_key not in holding]
    session.add_all(raised)
    if ended:
        await session.execute(
            update(Alert).where(Alert.id.in_([a.id for a in ended])).values(resolved_at=now)
        )
        for alert in ended:
            alert.resolved_at = now
    await session.flush()
    await _queue_deliveries(session, [(a, "raised") for a in raised] + [(a, "resolved") for a in ended], now)
    return Evaluation(raised=raised, resolved=ended)


def webhook_body(alert: Alert, event: str) -> str:
    """The JSON document a webhook receives for ``event`` (``raised`` or ``resolved``) of ``alert``."""
    document = {
        "event": event,
        "alert": {
            "id": alert.id,
            "rule": alert.rule,
            "agent_id": alert.agent_id,
            "device": alert.device,
            "detail": alert.detail,
            "raised_at": alert.raised_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        },
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _by_org_key(holding: dict[str, Condition]) -> dict[tuple[int, str], Condition]:
    return {(c.org_id, key): c for key, c in holding.items()}


def _alert(condition: Condition, now: dt.datetime) -> Alert:
    return Alert(
        org_id=condition.org_id,
        key=condition.key,
        rule=condition.rule,
        agent_id=condition.agent_id,
        device=condition.device,
        detail=dict(condition.detail),
        raised_at=now,
    )


async def _queue_deliveries(session: AsyncSession, events: list[tuple[Alert, str]], now: dt.datetime) -> None:
    if not events:
        return
    org_ids = {alert.org_id for alert, _ in events}
    hooks: defaultdict[int, list[int]] = defaultdict(list)
    query = select(AlertWebhook.org_id, AlertWebhook.id).where(AlertWebhook.org_id.in_(org_ids))
    for org_id, hook_id in await session.execute(query.order_by(AlertWebhook.id)):
        hooks[org_id].append(hook_id)
    session.add_all(
        WebhookDelivery(
            org_id=alert.org_id,
            webhook_id=hook_id,
            alert_id=alert.id,
            event=event,
            body=webhook_body(alert, event),
            next_attempt_at=now,
        )
        for alert, event in events
        for hook_id in hooks[alert.org_id]
    )
    await session.flush()
