"""Inventory entry for an Alpha protocol LED sign (``kind = "alpha_sign"``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edge_agent.signage.config import SignProgrammeConfig


class AlphaSignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["alpha_sign"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="device name, unique on this agent")
    port: str = Field(description="serial device, preferably a stable /dev/serial/by-id/... path")
    baudrate: int = Field(default=9600, gt=0)
    address: str = Field(default="00", pattern=r"^[0-9A-Fa-f]{2}$", description="sign address; 00 = all")
    columns: int = Field(default=16, ge=8, le=160, description="characters per line the sign can show")
    rows: int = Field(default=5, ge=1, le=20, description="ranking rows to show")
    timeout_s: float = Field(default=3.0, gt=0)
    # Serial format: the client libraries disagree (PROTOCOLS.md §1.1), so it is configurable.
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    stx_pause_s: float = Field(default=0.1, ge=0, le=1, description="pause after STX, as the spec asks")
    reset_pause_s: float = Field(default=1.0, ge=0, le=10, description="wait after memory configuration")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="longest wait between reopen attempts")
    programme: SignProgrammeConfig = Field(default=SignProgrammeConfig(), description="playlist, schedules")
