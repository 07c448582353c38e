"""Request and response bodies of the roster routes (cloud/api/routes/roster.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloud.api.schemas import Id

CredentialKind = Literal["pin", "card", "face", "fingerprint"]


class SiteLinksIn(BaseModel):
    """A site's people: whole departments (with their sub-departments) and single members."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"department_ids": [1], "member_ids": []}]}
    )

    department_ids: list[Id] = Field(default_factory=list, max_length=1000)
    member_ids: list[Id] = Field(default_factory=list, max_length=10_000)


class SiteLinksOut(BaseModel):
    site_id: int
    department_ids: list[int]
    member_ids: list[int]
    commands_queued: int


class CredentialsIn(BaseModel):
    """The credential kinds asked for a member; biometric kinds need a current consent."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"kinds": ["card", "face"]}]})

    kinds: list[CredentialKind] = Field(min_length=1, max_length=4, examples=[["card", "face"]])


class DeviceOut(BaseModel):
    """One terminal: ``pending`` (no receipt yet), ``queued``, ``verified`` or ``failed`` (``reason``)."""

    device: str
    state: str
    reason: str
    verified: dict[str, Any] | None
    updated_at: dt.datetime


class TargetOut(BaseModel):
    """A member on one agent's terminals: ``intended`` null means the terminals must not hold them."""

    agent_id: str
    intended: dict[str, Any] | None
    changed_at: dt.datetime
    devices: list[DeviceOut]


class MemberRosterOut(BaseModel):
    member_id: int
    credentials: list[str]
    agents: list[TargetOut]


class DeviceEntryOut(BaseModel):
    """One member as one terminal should hold them and as it was last seen to."""

    member_id: int
    intended: dict[str, Any] | None
    verified: dict[str, Any] | None
    state: str
    reason: str


class SyncOut(BaseModel):
    commands_queued: int
    receipts_applied: int
    requests_closed: int


class ErasureIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"member_ids": [1], "reason": "asked by the member"}]}
    )

    member_ids: list[Id] = Field(min_length=1, max_length=1000)
    reason: str = Field(default="", max_length=500)


class RequestIn(BaseModel):
    """An access or correction request (erasures go through ``POST /roster/erasures``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"member_id": 1, "kind": "access", "reason": "asked by the member"}]},
    )

    member_id: Id
    kind: Literal["access", "correction"]
    reason: str = Field(default="", max_length=500)


class ProgressOut(BaseModel):
    agent_id: str
    device: str
    state: str
    reason: str


class RequestOut(BaseModel):
    """A data-subject request, due 30 days after it was made; an erasure lists every device."""

    id: int
    member_id: int
    kind: str
    reason: str
    state: str
    created_at: dt.datetime
    due_at: dt.datetime
    closed_at: dt.datetime | None
    devices: list[ProgressOut]


class ChecksOut(BaseModel):
    checks_queued: int


class FindingOut(BaseModel):
    """A user on a terminal that the roster does not put there (``member_id`` null: no member has the
    PIN). Never deleted by the roster: an admin decides."""

    agent_id: str
    device: str
    pin: str
    member_id: int | None
    seen_at: dt.datetime
