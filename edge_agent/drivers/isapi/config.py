"""Inventory entry for a Hikvision ISAPI face terminal (``kind = "isapi_face"``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class IsapiFaceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["isapi_face"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="device name, unique on this agent")
    base_url: str = Field(pattern=r"^https?://[^/@\s]+(:\d+)?/?$", description="e.g. http://192.168.1.64")
    username: str = Field(min_length=1)
    password: SecretStr = Field(description="Digest password; never logged (devices lock after failures)")
    mode: Literal["pull", "stream"] = "stream"
    poll_interval_s: float = Field(default=30.0, gt=0, description="pull mode: how often AcsEvent is read")
    timeout_s: float = Field(default=5.0, gt=0, description="bound on every request")
    stream_idle_timeout_s: float = Field(
        default=60.0, gt=0, description="stream mode: reconnect after this silence"
    )
    backoff_initial_s: float = Field(default=2.0, gt=0, description="first retry delay after a failure")
    backoff_max_s: float = Field(
        default=300.0, gt=0, description="retry delay cap (wrong password: no storm)"
    )
