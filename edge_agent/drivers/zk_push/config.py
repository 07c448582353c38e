"""Inventory entry for ZKTeco terminals pushing over ADMS to this agent (``kind = "zk_push"``).

One entry is one listener; it serves every terminal whose serial number is listed. Each terminal is
a device of its own, named ``<name>:<SN>`` in events and health.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from typing import TYPE_CHECKING, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:  # the HTTP stack (h11) is imported by the driver, not by the configuration
    from edge_agent.http import HttpLimits

SERIAL_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_DEVICE_NAME = 64  # sync.Event.device


class ZkPushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["zk_push"]
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="listener name, unique on this agent"
    )
    listen_host: str = Field(description="address to bind: the LAN address on site, 127.0.0.1 in tests")
    listen_port: int = Field(default=8081, ge=0, le=65535, description="0 picks a free port (tests)")
    allowed_serials: tuple[str, ...] = Field(min_length=1, description="terminal SNs served; others get 401")
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone of the terminals' local clocks")
    delay_s: int = Field(default=10, ge=1, le=3600, description="Delay option: poll/heartbeat interval")
    error_delay_s: int = Field(default=30, ge=1, le=3600, description="ErrorDelay option: retry after errors")
    trans_times: str = Field(default="00:00;14:05", pattern=r"^[0-9:;]{0,100}$")
    trans_interval_min: int = Field(default=1, ge=0, le=1440)
    realtime: bool = Field(default=True, description="upload each punch as it happens")
    max_body_bytes: int = Field(default=2_097_152, ge=1024, description="largest request body accepted")
    max_commands_per_poll: int = Field(default=20, ge=1, le=500)
    addresses: dict[str, str] = Field(
        default_factory=dict,
        description="SN -> the only IP address it may push from; an SN not listed is bound to the first "
        "address it is seen from (remembered in the state directory)",
    )
    max_connections: int = Field(default=128, ge=1, le=10_000, description="LAN connections at once")
    max_connections_per_address: int = Field(default=8, ge=1, le=1_000)
    max_buffered_bytes: int = Field(default=8_388_608, ge=1024, description="body bytes held, all clients")
    head_deadline_s: float = Field(
        default=15.0, gt=0, le=300, description="to send a request head (keep above delay_s: keep-alive)"
    )
    body_deadline_s: float = Field(default=30.0, gt=0, le=600, description="to send a request body")

    @field_validator("allowed_serials")
    @classmethod
    def _serials(cls, serials: tuple[str, ...]) -> tuple[str, ...]:

        bad = [sn for sn in serials if not re.fullmatch(SERIAL_PATTERN, sn)]
        if bad or len(set(serials)) != len(serials):
            raise ValueError(f"serial numbers must be unique and match {SERIAL_PATTERN}: {bad or serials}")
        return serials

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, addresses: dict[str, str]) -> dict[str, str]:
        try:
            return {sn: str(ipaddress.ip_address(address)) for sn, address in addresses.items()}
        except ValueError as error:
            raise ValueError(f"addresses: {error}") from None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {zone!r}") from None
        return zone

    @model_validator(mode="after")
    def _device_names_fit(self) -> Self:
        longest = max(len(self.device_name(sn)) for sn in self.allowed_serials)
        if longest > MAX_DEVICE_NAME:
            raise ValueError(f"name + ':' + SN must be at most {MAX_DEVICE_NAME} characters")
        return self

    @model_validator(mode="after")
    def _addresses_name_served_terminals(self) -> Self:
        unknown = sorted(set(self.addresses) - set(self.allowed_serials))
        if unknown:
            raise ValueError(f"addresses name SNs not in allowed_serials: {unknown}")
        return self

    def http_limits(self) -> HttpLimits:
        """The listener's bounds from this entry."""
        from edge_agent.http import HttpLimits

        return HttpLimits(
            max_connections=self.max_connections,
            max_connections_per_address=self.max_connections_per_address,
            max_body_bytes=self.max_body_bytes,
            max_buffered_bytes=max(self.max_buffered_bytes, self.max_body_bytes),
            head_deadline_s=self.head_deadline_s,
            body_deadline_s=self.body_deadline_s,
        )

    def device_name(self, sn: str) -> str:
        """The device name of terminal ``sn`` in events and health."""
        return f"{self.name}:{sn}"
