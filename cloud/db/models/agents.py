"""Site agents, the displays (signs) they drive, and their non-punch events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class Agent(Base):
    """An enrolled site box; ``agent_id`` is its MQTT identity (``[a-z0-9-]+``)."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    last_status: Mapped[dict[str, Any] | None]
    last_status_at: Mapped[dt.datetime | None]
    # Version of the last display content published to this agent; only ever grows.
    display_version: Mapped[int] = mapped_column(default=0)
    # Events refused by the identity checks (undeclared device, PIN of no member): quarantined.
    refused_events: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    # Set once by POST /agents/{id}/retire: ingest quarantines its events, displays stop, its
    # certificates are in the CA's CRL. Never cleared: a box coming back is enrolled anew.
    retired_at: Mapped[dt.datetime | None]
    # notAfter of the last certificate issued to it at enrolment (fleet alerts warn before it).
    cert_expires_at: Mapped[dt.datetime | None]


class Display(Base):
    """One sign of an agent and what it shows (``content_kind``: cloud/displays/projection.py)."""

    __tablename__ = "display"
    __table_args__ = (UniqueConstraint("agent_pk", "sign"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    sign: Mapped[str] = mapped_column(String(64))
    point_type_id: Mapped[int] = mapped_column(ForeignKey("point_type.id"))
    content_kind: Mapped[str] = mapped_column(String(16), default="top_n")
    size: Mapped[int] = mapped_column(default=5)
    title: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(16), default="internal")
    announcement_text: Mapped[str] = mapped_column(String(1300), default="")
    # Red and black lists are off unless enabled for this display (PRIVACY.md DISP-2).
    show_red_black: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AgentEvent(Base):
    """An accepted event of a kind other than punch (cmd_result, loss_report, device_state), kept raw."""

    __tablename__ = "agent_event"
    __table_args__ = (UniqueConstraint("agent_pk", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)  # the contract's range (firmware_protocols.sync)
    kind: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any]]
    ingested_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AgentCommand(Base):
    """A command queued for an agent; delivered once published, answered by a ``cmd_result`` event."""

    __tablename__ = "agent_command"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    cmd_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]]
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    delivered_at: Mapped[dt.datetime | None]
