"""Bodies of the award workflow: events, decisions, revocations, appeals, authority limits."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

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
    comment: Text | None = Field(default=None, max_length=2000)


class RevocationIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=2000)


class AppealIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=2000)


class AppealDecisionIn(BaseModel):
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
    manager_member_id: Id
    point_type: Text
    max_points: int = Field(ge=0, le=1_000_000)


class AuthorityLimitOut(Out):
    id: int
    manager_member_id: int
    point_type_id: int
    max_points: int
