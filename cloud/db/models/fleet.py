"""Fleet alerts: each organisation's rules and webhooks, the alerts raised, and their deliveries.

An alert is keyed by what it is about (``agent_offline:site-1``, ``device_down:site-1:front-door``);
at most one alert per key is open (``resolved_at`` NULL) at a time. Every raise and every resolve
queues one delivery per webhook: the delivery rows are the durable outbox of the webhook sender.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class AlertRules(Base):
    """One organisation's thresholds (absent: the defaults) and its webhook signing secret."""

    __tablename__ = "alert_rules"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # HMAC-SHA256 key of the org's webhooks; it must be readable to sign, so it is kept as is.
    secret: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AlertWebhook(Base):
    """An endpoint that receives the organisation's alerts (``raised`` and ``resolved``)."""

    __tablename__ = "alert_webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Alert(Base):
    """A condition that held: raised at ``raised_at``, resolved when it ended."""

    __tablename__ = "alert"
    # At most one open alert per key, even with several cloud workers evaluating at once: the
    # second insert fails, that round is retried, and it then finds the alert open.
    __table_args__ = (
        Index(
            "uq_alert_open_key",
            "org_id",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    key: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]


class WebhookDelivery(Base):
    """One signed POST of one alert event to one webhook, tried until delivered or out of attempts."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "done", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("alert_webhook.id", ondelete="CASCADE"))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"))
    event: Mapped[str] = mapped_column(String(16))  # raised | resolved
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    done: Mapped[bool] = mapped_column(default=False)  # delivered, or given up after the last attempt
    delivered_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))


class AgentInventory(Base):
    """One version of an agent's cloud-managed device inventory, sent as an ``apply_inventory`` command."""

    __tablename__ = "agent_inventory"
    __table_args__ = (UniqueConstraint("agent_pk", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    version: Mapped[int]
    devices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cmd_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
