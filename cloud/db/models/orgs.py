"""Tenancy: organisations, their sites and the API tokens bound to them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class OrgKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    COMMUNITY = "community"
    SCHOOL = "school"
    FAMILY = "family"
    GOVERNMENT = "government"


class Role(enum.StrEnum):
    """Token roles, weakest first: a route needing a role admits every stronger one."""

    VIEWER = "viewer"
    MANAGER = "manager"
    ORG_ADMIN = "org_admin"
    PLATFORM_ADMIN = "platform_admin"


ROLE_ORDER = tuple(Role)


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ApiToken(Base):
    """A bearer token: only its SHA-256 hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The person behind the token: managers cannot award themselves or approve their own events.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]  # every token expires (migration 0008 gave old ones an expiry)
    revoked_at: Mapped[dt.datetime | None]
