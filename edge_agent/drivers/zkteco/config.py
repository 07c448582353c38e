"""Inventory entry for a ZKTeco 4370 terminal (``kind = "zkteco"``)."""

from __future__ import annotations

import codecs
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ZkTerminalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["zkteco"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="device name, unique on this agent")
    host: str
    port: int = Field(default=4370, ge=1, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"
    comm_key: int = Field(default=0, ge=0, le=999_999)
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone of the terminal's local clock")
    pull_interval_s: float = Field(default=60.0, gt=0, description="how often the whole log is re-read")
    timeout_s: float = Field(default=5.0, gt=0, description="bound on every request")
    encoding: str = Field(
        default="utf-8", description="text encoding of user names (gbk on Chinese firmware)"
    )
    reconnect_min_s: float = Field(default=1.0, gt=0, description="first wait after a failure (jittered)")
    reconnect_max_s: float = Field(default=60.0, gt=0, description="longest wait between reconnects")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _ordered_backoff(self) -> ZkTerminalConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        return self
