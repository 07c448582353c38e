"""Request and response bodies of the API (response models keep serialisation fast and the shape fixed)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from cloud.db.models import MemberStatus
from firmware_protocols import sync


def _printable(value: str) -> str:
    # Control characters have no place in names or reasons, and PostgreSQL cannot store NUL at all.
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_printable)]

# Database integers are 32-bit on PostgreSQL: ids and points outside these bounds are refused (422)
# at the edge instead of failing in the driver.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Points = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrgOut(Out):
    id: int
    name: str
    kind: str
    time_zone: str


class SiteIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Head office"}]})

    name: Text = Field(min_length=1, max_length=200)


class SiteOut(Out):
    id: int
    name: str
    created_at: dt.datetime


class AgentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agent_id": "hq-1", "site_id": 1}]})

    agent_id: Text
    site_id: Id | None = None

    @field_validator("agent_id")
    @classmethod
    def _valid_identity(cls, value: str) -> str:
        try:
            return sync.validate_agent_id(value)
        except sync.SyncProtocolError as exc:
            raise ValueError(str(exc)) from None


class AgentOut(Out):
    agent_id: str
    site_id: int | None
    last_status: dict[str, Any] | None
    last_status_at: dt.datetime | None
    display_version: int
    # Events ingest refused for identity (undeclared device, PIN of no member): quarantined, acked.
    refused_events: int
    created_at: dt.datetime
    retired_at: dt.datetime | None = None


class MemberIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "display_name": "Alice",
                    "legal_name": "Alice Li",
                    "pin": "1",
                    "card": "C001",
                    "department_id": 1,
                }
            ]
        }
    )

    display_name: Text = Field(min_length=1, max_length=64)
    legal_name: Text | None = Field(default=None, max_length=200)
    pin: Text | None = Field(default=None, min_length=1, max_length=32)
    card: Text | None = Field(default=None, min_length=1, max_length=32)
    department_id: Id | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100, description="decides minors (MIN-1)")
    minor: bool = Field(default=False, description="a minor whatever the birth year (MIN-1)")


class MemberPatch(BaseModel):
    """Fields to change; ``status`` moves between active and left (erasure has its own route)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"department_id": 2, "status": "left"}]})

    display_name: Text | None = Field(default=None, min_length=1, max_length=64)
    legal_name: Text | None = Field(default=None, max_length=200)
    pin: Text | None = Field(default=None, min_length=1, max_length=32)
    card: Text | None = Field(default=None, min_length=1, max_length=32)
    department_id: Id | None = None
    status: Literal["active", "left"] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    minor: bool = False  # not nullable: only sent values change (exclude_unset)


class MemberOut(Out):
    id: int
    display_name: str
    legal_name: str | None
    pin: str | None
    card: str | None
    department_id: int | None
    status: MemberStatus
    birth_year: int | None
    minor: bool
    created_at: dt.datetime


class PointTypeIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "A", "name": "A points"}]})

    code: Text = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    name: Text = Field(min_length=1, max_length=200)


class PointTypeOut(Out):
    id: int
    code: str
    name: str


class RuleIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "service",
                    "name": "helped a customer",
                    "point_type": "A",
                    "points": 3,
                    "min_points": 1,
                    "max_points": 10,
                    "needs_review": False,
                    "issues_tickets": False,
                }
            ]
        }
    )

    category: Text = Field(default="", max_length=100)
    name: Text = Field(min_length=1, max_length=200)
    point_type: Text
    points: Points
    min_points: Points | None = None
    max_points: Points | None = None
    needs_review: bool = False
    issues_tickets: bool = False


class RuleOut(Out):
    id: int
    category: str
    name: str
    point_type_id: int
    points: int
    min_points: int | None
    max_points: int | None
    needs_review: bool
    issues_tickets: bool


class LedgerEntryIn(BaseModel):
    """An award (points > 0) or deduction (points < 0); ``points`` defaults to the rule's."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": 1,
                    "point_type": "A",
                    "rule_id": 3,
                    "reason": "helped a customer",
                    "effective_date": "2026-11-05",
                }
            ]
        }
    )

    member_id: Id
    point_type: Text
    points: Points | None = None
    rule_id: Id | None = None
    reason: Text | None = Field(default=None, max_length=2000)
    effective_date: dt.date | None = None


class LedgerEntryOut(Out):
    id: int
    member_id: int
    point_type_id: int
    points: int
    rule_id: int | None
    reason: str | None
    source: str
    effective_date: dt.date
    status: str
    revokes_id: int | None
    event_id: int | None
    created_at: dt.datetime


class RankingRowOut(BaseModel):
    rank: int = Field(description="standard competition rank: 1 + members with more points")
    member_id: int
    display_name: str
    points: int


class RankingOut(BaseModel):
    period: str
    key: str
    point_type: str
    order: Literal["top", "bottom"] = "top"
    department_id: int | None = None
    rows: list[RankingRowOut]


DisplayKind = Literal[
    "top_n", "department_table", "red_list", "black_list", "latest_events", "announcement", "clock"
]


def _sign_lines(value: str) -> str:
    # An announcement is shown line by line: the contract's limits (sync.messages) apply to it.
    lines = value.split("\n")
    if len(lines) > sync.messages.MAX_SIGN_LINES:
        raise ValueError(f"at most {sync.messages.MAX_SIGN_LINES} lines")
    if any(len(line) > sync.messages.MAX_LINE_CHARS for line in lines):
        raise ValueError(f"each line at most {sync.messages.MAX_LINE_CHARS} characters")
    return value


AnnouncementText = Annotated[Text, AfterValidator(_sign_lines)]


class DisplayIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agent_id": "hq-1",
                    "sign": "lobby",
                    "point_type": "A",
                    "size": 5,
                    "title": "Top 5",
                    "audience": "internal",
                }
            ]
        }
    )

    agent_id: Text
    sign: Text = Field(min_length=1, max_length=64)
    point_type: Text
    content_kind: DisplayKind = "top_n"
    size: int = Field(default=5, ge=1, le=50)
    title: Text = Field(default="", max_length=200)
    audience: Literal["internal", "public"] = "internal"
    announcement_text: AnnouncementText = ""
    show_red_black: bool = False


class DisplayUpdate(BaseModel):
    """The fields of a display that may change; absent fields keep their value."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"content_kind": "announcement", "announcement_text": "Fire drill at 3 pm"}]
        }
    )

    content_kind: DisplayKind | None = None
    size: int | None = Field(default=None, ge=1, le=50)
    title: Text | None = Field(default=None, max_length=200)
    audience: Literal["internal", "public"] | None = None
    announcement_text: AnnouncementText | None = None
    show_red_black: bool | None = None


class DisplayOut(Out):
    id: int
    sign: str
    point_type_id: int
    content_kind: str
    size: int
    title: str
    audience: str
    announcement_text: str
    show_red_black: bool


class LateBand(BaseModel):
    after_minutes: int = Field(ge=0, le=24 * 60)
    rule_id: Id


class EarlyLeaveBand(BaseModel):
    before_minutes: int = Field(ge=0, le=24 * 60)
    rule_id: Id


class AttendanceRuleIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "shift_start": "09:00:00",
                    "on_time_rule_id": 1,
                    "late_rule_id": 2,
                    "late_bands": [{"after_minutes": 30, "rule_id": 3}],
                    "absence_rule_id": 4,
                    "shift_end": "18:00:00",
                    "early_leave_rule_id": 5,
                    "early_leave_bands": [{"before_minutes": 60, "rule_id": 6}],
                    "full_attendance_rule_id": 7,
                }
            ]
        }
    )

    shift_start: dt.time
    on_time_rule_id: Id
    late_rule_id: Id
    late_bands: list[LateBand] = Field(default_factory=list, max_length=20)
    absence_rule_id: Id | None = None
    shift_end: dt.time | None = None
    early_leave_rule_id: Id | None = None
    early_leave_bands: list[EarlyLeaveBand] = Field(default_factory=list, max_length=20)
    full_attendance_rule_id: Id | None = None


class AttendanceRuleOut(Out):
    id: int
    shift_start: dt.time
    on_time_rule_id: int
    late_rule_id: int
    late_bands: list[LateBand]
    absence_rule_id: int | None
    shift_end: dt.time | None
    early_leave_rule_id: int | None
    early_leave_bands: list[EarlyLeaveBand]
    full_attendance_rule_id: int | None


class PunchOut(Out):
    id: int
    event_id: str
    device: str
    pin: str
    member_id: int | None
    occurred_at: dt.datetime
    device_time: str
    received_at: dt.datetime
    verify_mode: str
    state: str
    ledger_entry_id: int | None
