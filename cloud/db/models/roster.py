"""The roster: which sites a member belongs to, what each terminal should hold, what it was seen to hold,
and the data-subject requests (access, correction, erasure) with their 30-day clock (PRIVACY.md DEL-1, DSR-1).

Only enrolment state is kept per device: PIN, card number, credential kinds and the name as shown; never
a template or a picture (BIO-1).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class DeviceState(enum.StrEnum):
    PENDING = "pending"  # a change is queued or in flight; no receipt yet
    QUEUED = "queued"  # the agent queued it for the terminal's next poll (ZK ADMS)
    VERIFIED = "verified"  # done and read back: ``verified`` equals ``intended``
    FAILED = "failed"  # the receipt says why (``reason``)


class RequestKind(enum.StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    ERASURE = "erasure"


class RequestState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RosterSiteLink(Base):
    """A site's people: a whole department (with its sub-departments) or one member."""

    __tablename__ = "roster_site_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))


class RosterCredentials(Base):
    """The credential kinds asked for a member (no row: PIN, and card when the member has one)."""

    __tablename__ = "roster_credentials"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class RosterTarget(Base):
    """A member on one agent's terminals: the intended user (None: must be absent) and the commands of the
    latest change, in order; the PIN is the one on the devices (kept until the deletion is verified)."""

    __tablename__ = "roster_target"
    __table_args__ = (UniqueConstraint("member_id", "agent_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    pin: Mapped[str | None] = mapped_column(String(32))
    intended: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cmd_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class RosterDevice(Base):
    """Where one target stands on one terminal (``device`` ``*``: the agent has not named its terminals)."""

    __tablename__ = "roster_device"
    __table_args__ = (UniqueConstraint("target_id", "device"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("roster_target.id"), index=True)
    device: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=DeviceState.PENDING)
    reason: Mapped[str] = mapped_column(String(300), default="")
    verified: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class PrivacyRequest(Base):
    """A data-subject request; an erasure closes only when every device of the member is verified."""

    __tablename__ = "privacy_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16), default=RequestState.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    due_at: Mapped[dt.datetime]  # 30 days after it was made (the privacy policy's promise)
    closed_at: Mapped[dt.datetime | None]


class RosterCheckRun(Base):
    """One ``roster_check`` sent to an agent; ``report`` (per device: state, extra and missing PINs) once
    its result came back. Extra PINs are findings for an admin, never deleted by the roster."""

    __tablename__ = "roster_check_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agent_pk: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    cmd_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    applied_at: Mapped[dt.datetime | None]
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
