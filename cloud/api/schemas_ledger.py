"""Bodies of the award workflow: events, decisions, revocations, appeals, authority limits."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from cloud.api.schemas import Id, Out, Points, Text


class LedgerEventIn(BaseModel):
    """One award (points > 0) or deduction (points < 0) for one or many members."""

    member_ids: list[Id] = Field(min_length=1, max_length=500)
    point_type: Text
    points: Points | None = Field(default=None, description="defaults to the rule's points")
    rule_id: Id | None = None
    reason: Text | None = Field(default=None, max_length=2000)
    effective_date: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [{"member_ids": [1, 2], "point_type": "A", "rule_id": 3, "reason": "volunteered"}]
        }
    }


class LedgerEventOut(Out):
    id: int
    point_type_id: int
    points: int
    rule_id: int | None
    reason: str | None
    source: str
    effective_date: dt.date
    status: str
    member_ids: list[int]
    submitted_by_token_id: int | None
    decided_by_token_id: int | None
    decided_at: dt.datetime | None
    decision_comment: str | None
    created_at: dt.datetime


class DecisionIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"comment": "well done"}]})

    comment: Text | None = Field(default=None, max_length=2000)


class RevocationIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "entered twice"}]})

    reason: Text = Field(min_length=1, max_length=2000)


class AppealIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "I was on sick leave that day"}]})

    reason: Text = Field(min_length=1, max_length=2000)


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"upheld": True, "comment": "doctor's note seen"}]}
    )

    upheld: bool
    comment: Text | None = Field(default=None, max_length=2000)


class AppealOut(Out):
    id: int
    entry_id: int
    reason: str
    status: str
    decision_comment: str | None
    compensation_id: int | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class AuthorityLimitIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"manager_member_id": 2, "point_type": "A", "max_points": 5}]}
    )

    manager_member_id: Id
    point_type: Text
    max_points: int = Field(ge=0, le=1_000_000)


class AuthorityLimitOut(Out):
    id: int
    manager_member_id: int
    point_type_id: int
    max_points: int
