"""The site file: which simulators to run, validated strictly before anything starts.

A site file is TOML with an optional list of people and a list of devices::

    [[user]]                      # optional: the site's people, one users file shared by the terminals
    pin = "1001"
    name = "张伟"

    [[device]]
    kind = "zk-terminal"          # zk-terminal | zk-push | isapi-face | alpha-sign | modbus-sign
    name = "front-door"           # unique; names the state file, PNG and log
    port = 0                      # 0: the site runner picks a free port

Each kind has its own model whose keys are that simulator's options (``--punch-every`` is
``punch_every``); unknown keys are errors. ``load_site`` reports every problem on its own line as
``site.toml: device "front-door" (zk-terminal): port: ...``. Relative ``users`` and ``faults`` paths
are relative to the site file; relative ``pty`` links are relative to the state directory.
"""

from __future__ import annotations

import codecs
import zoneinfo
from pathlib import Path
from typing import Annotated, Final, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from firmware_protocols.modbus_led import PROFILES

# The agent's device-name rule, so a simulator's name carries over into the agent inventory.
NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# Names whose files the runner itself writes into the state directory.
RESERVED_NAMES: Final = frozenset({"site", "site-users"})


class SiteConfigError(Exception):
    """The site file is missing, not TOML, or does not validate; the message names device and field."""


def _known_zone(zone: str) -> str:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA timezone {zone!r}") from None
    return zone


def _known_encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown text encoding {name!r}") from None
    return name


def _free_name(name: str) -> str:
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is reserved for the runner's own files")
    return name


Zone = Annotated[str, AfterValidator(_known_zone)]
Port = Annotated[int, Field(ge=0, le=65535, description="0: the site runner picks a free port")]
Seconds = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteUser(_Strict):
    """One person enrolled on every terminal of the site."""

    pin: str = Field(pattern=r"^[0-9]{1,9}$")
    name: str = Field(default="", max_length=24)
    privilege: int = Field(default=0, ge=0, le=14)
    card: int = Field(default=0, ge=0, le=0xFFFFFFFF)
    password: str = Field(default="", pattern=r"^[0-9]{0,8}$")


class _Device(_Strict):
    name: Annotated[str, Field(pattern=NAME_PATTERN), AfterValidator(_free_name)]


class ZkTerminalDevice(_Device):
    kind: Literal["zk-terminal"]
    host: str = "127.0.0.1"
    port: Port = 4370
    comm_key: int = Field(default=0, ge=0, le=999_999)
    users: Path | None = None
    punch_every: Seconds | None = None
    serial_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    records: int = Field(default=0, ge=0)
    timezone: Zone = "Asia/Shanghai"
    encoding: Annotated[str, AfterValidator(_known_encoding)] = "utf-8"
    fault: str | None = Field(default=None, pattern=r"^(drop|delay|corrupt|disconnect):[0-9]+$")


class ZkPushDevice(_Device):
    kind: Literal["zk-push"]
    server: str = Field(
        pattern=r"^http://[A-Za-z0-9.-]+:[0-9]{1,5}/?$",
        description="the agent's ADMS listener, http://host:port; port 0 picks one for the agent",
    )
    sn: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    listener: str = Field(default="adms", pattern=NAME_PATTERN, description="agent zk_push entry name")
    users: Path | None = None
    punch_every: Seconds | None = None
    language: str = Field(default="69", pattern=r"^[0-9]{1,3}$")
    photos: bool = False
    templates: bool = False
    timezone: Zone = "Asia/Shanghai"
    path_style: Literal["plain", "slash", "aspx"] = "plain"


class IsapiFaceDevice(_Device):
    kind: Literal["isapi-face"]
    host: str = "127.0.0.1"
    port: Port = 18080
    user: str = Field(default="admin", min_length=1)
    password: str = Field(min_length=1)
    punch_every: Seconds | None = None
    pictures: bool = False
    # Fault: attach pictures even after the agent turned picture upload off.
    ignore_picture_setting: bool = False
    boundary_style: Literal["boundary", "MIME_boundary"] = "MIME_boundary"
    heartbeat: Seconds = 5.0


class AlphaSignDevice(_Device):
    kind: Literal["alpha-sign"]
    pty: Path | None = Field(default=None, description="pty link to create, relative to the state dir")
    serial: str | None = Field(default=None, description="an existing serial device")
    baudrate: int = Field(default=9600, gt=0)
    address: str = Field(default="00", pattern=r"^[0-9A-Fa-f]{2}$")
    fault_ignore: bool = False
    fault_garble: bool = False
    fault_answer_delay: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_line(self) -> Self:
        if (self.pty is None) == (self.serial is None):
            raise ValueError("give exactly one of pty or serial")
        return self


class ModbusSignDevice(_Device):
    kind: Literal["modbus-sign"]
    tcp: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", description="HOST:PORT")
    serial: str | None = None
    pty: Path | None = None
    unit: int = Field(default=1, ge=1, le=247)
    profile: str = "mpm-gbk"
    faults: Path | None = None

    @model_validator(mode="after")
    def _one_line(self) -> Self:
        if sum(x is not None for x in (self.tcp, self.serial, self.pty)) != 1:
            raise ValueError("give exactly one of tcp, serial or pty")
        if self.profile not in PROFILES:
            raise ValueError(f"profile {self.profile!r} is not one of {sorted(PROFILES)}")
        if self.tcp is not None and int(self.tcp.rpartition(":")[2]) > 65535:
            raise ValueError(f"tcp port out of range in {self.tcp!r}")
        return self

    @property
    def tcp_endpoint(self) -> tuple[str, int] | None:
        """(host, port) of ``tcp``, or None on a serial line."""
        if self.tcp is None:
            return None
        host, _, port = self.tcp.rpartition(":")
        return host, int(port)


Device = ZkTerminalDevice | ZkPushDevice | IsapiFaceDevice | AlphaSignDevice | ModbusSignDevice
TERMINAL_KINDS: Final = ("zk-terminal", "zk-push")  # the kinds that take a users file


class SiteConfig(_Strict):
    user: list[SiteUser] = Field(default_factory=list)
    device: list[Annotated[Device, Field(discriminator="kind")]] = Field(min_length=1)


def device_label(device: Device) -> str:
    """``device "front-door" (zk-terminal)``: how messages name a device."""
    return f'device "{device.name}" ({device.kind})'
