"""Fleet health and alerts: the fleet view, alert rules, webhooks and their signing secret, alerts."""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.parse
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.api.deps import OrgAdmin, PageDep, PathId, ReadSessionDep, SessionDep, Viewer
from cloud.api.lookups import owned, page_of
from cloud.api.problems import problem
from cloud.db.base import utc_now
from cloud.db.models import Alert, AlertRules, AlertWebhook, WebhookDelivery
from cloud.domain import audit_log
from cloud.fleet import DEFAULT_RULES, AlertRuleSet, FleetOut, fleet
from cloud.fleet.view import AlertOut

router = APIRouter(prefix="/fleet", tags=["fleet"])
MAX_WEBHOOKS: Final = 10


def _now(request: Request) -> dt.datetime:
    """The alert service's clock (injected in tests), so the view and the alerts agree."""
    alerts = getattr(request.app.state, "fleet_alerts", None)
    return alerts.clock() if alerts is not None else utc_now()


@router.get("")
async def get_fleet(request: Request, session: ReadSessionDep, principal: Viewer) -> FleetOut:
    """Every agent in service: online, last seen, version, backlog, devices, certificate, open alerts."""
    return await fleet(session, principal.org_id, _now(request))


@router.get("/alert-rules")
async def get_alert_rules(session: ReadSessionDep, principal: Viewer) -> AlertRuleSet:
    """The organisation's alert thresholds (the defaults until it sets its own)."""
    row = await session.get(AlertRules, principal.org_id)
    return AlertRuleSet.model_validate(row.rules) if row is not None else DEFAULT_RULES


@router.put("/alert-rules")
async def put_alert_rules(body: AlertRuleSet, session: SessionDep, principal: OrgAdmin) -> AlertRuleSet:
    """Replace the thresholds; a threshold set to null turns its rule off."""
    row = await _rules_row(session, principal.org_id)
    row.rules, row.updated_at = body.model_dump(mode="json"), utc_now()
    await audit_log.record(
        session, principal.org_id, principal.actor(), "fleet.alert_rules", "alert_rules", row.rules
    )
    await session.commit()
    return body


class SecretOut(BaseModel):
    secret: str = Field(description="HMAC-SHA256 key of X-MPM-Signature; shown only here")


@router.post("/webhook-secret")
async def rotate_webhook_secret(session: SessionDep, principal: OrgAdmin) -> SecretOut:
    """A new signing secret for the organisation's webhooks (the old one stops at once)."""
    row = await _rules_row(session, principal.org_id)
    row.secret = _new_secret()
    await audit_log.record(
        session, principal.org_id, principal.actor(), "fleet.webhook_secret", "alert_rules", {}
    )
    await session.commit()
    return SecretOut(secret=row.secret)


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"url": "https://ops.example.com/mpm-alerts"}]}
    )

    url: str = Field(max_length=2000, examples=["https://ops.example.com/mpm-alerts"])

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        _ = parts.port  # raises ValueError on a bad port
        return url


class WebhookOut(BaseModel):
    id: int
    url: str
    created_at: dt.datetime


@router.post("/webhooks", status_code=201)
async def add_webhook(body: WebhookIn, session: SessionDep, principal: OrgAdmin) -> WebhookOut:
    """Add an endpoint; it receives every alert raised and resolved from now on."""
    count = await session.scalar(select(func.count()).where(AlertWebhook.org_id == principal.org_id))
    if (count or 0) >= MAX_WEBHOOKS:
        raise problem(409, f"an organisation has at most {MAX_WEBHOOKS} webhooks")
    await _rules_row(session, principal.org_id)
    hook = AlertWebhook(org_id=principal.org_id, url=body.url)
    session.add(hook)
    await session.flush()
    await audit_log.record(
        session,
        principal.org_id,
        principal.actor(),
        "fleet.webhook_add",
        f"webhook:{hook.id}",
        {"url": body.url},
    )
    await session.commit()
    return WebhookOut.model_validate(hook, from_attributes=True)


@router.get("/webhooks")
async def list_webhooks(session: ReadSessionDep, principal: OrgAdmin) -> list[WebhookOut]:
    """The organisation's webhook endpoints."""
    query = select(AlertWebhook).where(AlertWebhook.org_id == principal.org_id).order_by(AlertWebhook.id)
    return [WebhookOut.model_validate(h, from_attributes=True) for h in await session.scalars(query)]


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def remove_webhook(webhook_id: PathId, session: SessionDep, principal: OrgAdmin) -> None:
    """Remove an endpoint and drop what was still to be sent to it."""
    hook = await owned(session, AlertWebhook, webhook_id, principal.org_id, "webhook")
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    await session.delete(hook)
    await audit_log.record(
        session, principal.org_id, principal.actor(), "fleet.webhook_remove", f"webhook:{hook.id}", {}
    )
    await session.commit()


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    alert_id: int
    event: str
    attempts: int
    done: bool
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime
    last_error: str | None


@router.get("/webhooks/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: PathId, session: ReadSessionDep, principal: OrgAdmin, page: PageDep
) -> list[DeliveryOut]:
    """What was sent to an endpoint, newest first: attempts, delivered or not, the last error."""
    hook = await owned(session, AlertWebhook, webhook_id, principal.org_id, "webhook")
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc())
    )
    return [DeliveryOut.model_validate(d, from_attributes=True) for d in await page_of(session, query, page)]


@router.get("/alerts")
async def list_alerts(
    session: ReadSessionDep,
    principal: Viewer,
    page: PageDep,
    state: Annotated[Literal["open", "all"], Query(description="open alerts only, or all")] = "open",
) -> list[AlertOut]:
    """The organisation's alerts, newest first."""
    query = select(Alert).where(Alert.org_id == principal.org_id)
    if state == "open":
        query = query.where(Alert.resolved_at.is_(None))
    query = query.order_by(Alert.id.desc())
    return [AlertOut.model_validate(a, from_attributes=True) for a in await page_of(session, query, page)]


async def _rules_row(session: AsyncSession, org_id: int) -> AlertRules:
    """The organisation's row, created with the default rules and a fresh secret when missing."""
    row = await session.get(AlertRules, org_id)
    if row is None:
        row = AlertRules(org_id=org_id, rules=DEFAULT_RULES.model_dump(mode="json"), secret=_new_secret())
        session.add(row)
        await session.flush()
    return row


def _new_secret() -> str:
    return secrets.token_hex(32)
