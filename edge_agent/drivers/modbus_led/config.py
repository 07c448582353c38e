"""Inventory entry for a Modbus LED points display (``kind = "modbus_led"``).

Exactly one of ``port`` (Modbus RTU on a serial line) or ``host`` (Modbus TCP) is given. Several
modules on one RS-485 line share ``port`` and differ in ``unit``; the driver serialises them.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge_agent.signage.config import SignProgrammeConfig
from firmware_protocols.modbus_led import PROFILES


class ModbusLedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["modbus_led"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="device name, unique on this agent")
    port: str | None = Field(default=None, description="RTU: serial device, preferably /dev/serial/by-id/...")
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    host: str | None = Field(default=None, description="TCP: module or gateway address")
    tcp_port: int = Field(default=502, ge=1, le=65535)
    unit: int = Field(default=1, ge=1, le=247, description="Modbus unit (slave) id")
    profile: str = Field(default="mpm-gbk", description="register map profile (REGISTERS.md)")
    timeout_s: float = Field(default=1.0, gt=0, description="time bound of one request")
    poll_s: float = Field(default=10.0, gt=0, description="how often an idle module's version is checked")
    dwell_s: int = Field(default=5, ge=0, le=65535, description="seconds each page stays up")
    programme: SignProgrammeConfig = Field(default=SignProgrammeConfig(), description="playlist, schedules")

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if (self.port is None) == (self.host is None):
            raise ValueError("give exactly one of port (Modbus RTU) or host (Modbus TCP)")
        if self.profile not in PROFILES:
            raise ValueError(f"profile {self.profile!r} is not one of {sorted(PROFILES)}")
        return self

    @property
    def bus_key(self) -> str:
        """The line this module hangs on: requests on one line are serialised by one lock."""
        return f"rtu:{self.port}" if self.port is not None else f"tcp:{self.host}:{self.tcp_port}"
