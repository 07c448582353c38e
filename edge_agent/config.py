"""The agent's configuration: one typed model, parsed once at start-up from TOML.

``load_config(path)`` reads ``agent.toml``, then ``conf.d/*.toml``, ``MPM_AGENT_*`` variables and
``--set`` flags (the layered loader in ``settings_layers.py``) and validates them into ``AgentConfig``;
any problem raises ``ConfigError`` naming the setting and its source (the CLI exits 78, EX_CONFIG).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

# Imported for its effect, before the first model is built: pydantic loads no plugin machinery.
from edge_agent import _pydantic_plugins  # noqa: F401
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from firmware_protocols.sync import MAX_BATCH_EVENTS, SyncProtocolError, validate_agent_id

EX_CONFIG: Final = 78
DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
MiB: Final = 1024 * 1024

AnyDeviceConfig = ZkTerminalConfig | ZkPushConfig | IsapiFaceConfig | AlphaSignConfig | ModbusLedConfig
DeviceConfig = Annotated[AnyDeviceConfig, Field(discriminator="kind")]


class ConfigError(Exception):
    """The configuration file is missing, not TOML, or does not validate; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(_Model):
    """TLS material; with ``mqtts://`` the server certificate is always verified."""

    ca_file: Path | None = Field(default=None, description="CA bundle; the system store when absent")
    cert_file: Path | None = Field(default=None, description="client certificate for mutual TLS")
    key_file: Path | None = Field(default=None, description="private key of cert_file")

    @model_validator(mode="after")
    def _key_needs_cert(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS needs both)")
        return self


class MqttConfig(_Model):
    url: str = Field(description="mqtt://host[:port] or mqtts://host[:port]")
    username: str | None = None
    password: SecretStr | None = None
    keepalive_s: int = Field(default=15, ge=5, le=30)
    ack_timeout_s: float = Field(default=10.0, gt=0)
    tls: TlsConfig = TlsConfig()

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("must look like mqtt://host[:port] or mqtts://host[:port]")
        _ = parts.port  # raises ValueError on a bad port
        return url

    @model_validator(mode="after")
    def _tls_only_with_mqtts(self) -> MqttConfig:
        if not self.uses_tls and self.tls != TlsConfig():
            raise ValueError("tls settings need an mqtts:// url (there is no plaintext fallback)")
        return self

    @property
    def uses_tls(self) -> bool:
        return urllib.parse.urlsplit(self.url).scheme == "mqtts"

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urllib.parse.urlsplit(self.url)
        return parts.port or DEFAULT_PORTS[parts.scheme]


class OutboxConfig(_Model):
    path: Path = Field(description="SQLite file of the durable outbox")
    max_bytes: int = Field(default=512 * MiB, ge=MiB, description="cap on database + WAL size")
    batch_size: int = Field(
        default=100,
        ge=1,
        le=MAX_BATCH_EVENTS,
        description="events per batch to start with; doubles under a backlog, up to the contract's 1,000",
    )
    max_in_flight_batches: int = Field(default=4, ge=1, le=64, description="batches awaiting the cloud's ack")


class ObservabilityConfig(_Model):
    """``/healthz``, ``/readyz`` and ``/metrics``; loopback by default (nothing here is for the LAN)."""

    listen: str = Field(default="127.0.0.1:9108", description="host:port of the health/metrics server")
    enabled: bool = Field(default=True, description="serve the endpoints at all")
    ready_max_backlog_age_s: float = Field(
        default=600.0, gt=0, description="while the link is down, ready only if the oldest unsent is younger"
    )

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, listen: str) -> str:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must look like host:port, e.g. 127.0.0.1:9108")
        return listen

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class AgentConfig(_Model):
    agent_id: str
    mqtt: MqttConfig
    outbox: OutboxConfig
    observability: ObservabilityConfig = ObservabilityConfig()
    status_interval_s: float = Field(default=10.0, gt=0)
    devices: list[DeviceConfig] = Field(default_factory=list)

    @field_validator("agent_id")
    @classmethod
    def _check_agent_id(cls, agent_id: str) -> str:
        try:
            return validate_agent_id(agent_id)
        except SyncProtocolError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("devices")
    @classmethod
    def _unique_names(cls, devices: list[AnyDeviceConfig]) -> list[Any]:
        seen: set[str] = set()
        for device in devices:
            if device.name in seen:
                raise ValueError(f"device name {device.name!r} is used twice")
            seen.add(device.name)
        return devices


def load_config(
    path: Path | str, *, environ: Mapping[str, str] | None = None, overrides: Sequence[str] = ()
) -> AgentConfig:
    """Load ``path`` + ``conf.d/*.toml`` + ``MPM_AGENT_*`` variables + ``--set`` overrides, in that order.

    Raises ``ConfigError`` naming the setting and where it came from (file:line, variable or flag);
    an unknown key or a misspelled variable is an error with a suggestion.
    """
    from edge_agent.settings_layers import ConfigError as LayeredConfigError
    from edge_agent.settings_layers import load_layered

    try:
        config, _ = load_layered(
            AgentConfig, Path(path), os.environ if environ is None else environ, overrides
        )
    except LayeredConfigError as exc:
        raise ConfigError(str(exc)) from None
    return config
