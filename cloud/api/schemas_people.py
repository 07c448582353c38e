"""Bodies for departments, member privacy (sensitive fields, consents), CSV import reports, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cloud.api.schemas import Id, Out, Text
from cloud.db.models import ConsentKind, Role


class DepartmentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Sales", "parent_id": None}]})

    name: Text = Field(min_length=1, max_length=100)
    parent_id: Id | None = None


class DepartmentOut(Out):
    id: int
    name: str
    parent_id: int | None


class SensitiveIn(BaseModel):
    """Sensitive fields (encrypted at rest); id_number and birth_date only where the org enabled them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"phone": "138 0013 8000", "guardian_contact": "Li Ming 139 0013 9000"}]
        }
    )

    phone: Text | None = Field(default=None, max_length=32, examples=["138 0013 8000"])
    id_number: Text | None = Field(default=None, max_length=32)
    birth_date: dt.date | None = None
    guardian_contact: Text | None = Field(default=None, max_length=200)


class SensitiveOut(BaseModel):
    phone: str | None
    id_number: str | None
    birth_date: str | None
    guardian_contact: str | None


class ConsentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "public_display", "granted": True, "notice_version": "2026-01", "actor": "self"}
            ]
        }
    )

    kind: ConsentKind
    granted: bool
    notice_version: Text = Field(min_length=1, max_length=32, examples=["2026-01"])
    actor: Literal["self", "guardian"] = "self"


class ConsentOut(Out):
    id: int
    member_id: int
    kind: str
    granted: bool
    notice_version: str
    actor: str
    recorded_at: dt.datetime


class ImportRowError(BaseModel):
    row: int = Field(description="1-based line number in the CSV (the header is line 1)")
    message: str


class ImportReport(BaseModel):
    created: int
    errors: list[ImportRowError]


class ApiTokenIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"role": "manager", "label": "Bob's phone", "member_id": 2}]}
    )

    role: Role
    label: Text = Field(default="", max_length=200)
    member_id: Id | None = None
    expires_at: dt.datetime | None = Field(
        default=None, description="default: the cloud's token lifetime (MPM_TOKEN_LIFETIME_DAYS, 90)"
    )


class TokenOut(Out):
    id: int
    role: str
    label: str
    member_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")
