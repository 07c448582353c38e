"""Cloud settings (env prefix ``MPM_``), built once at start-up and never at import."""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote, urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class MqttEndpoint:
    """Where the broker is: parsed from ``mqtt_url`` (``mqtt://`` plain, ``mqtts://`` TLS)."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


class CloudSettings(BaseSettings):
    """Everything the cloud service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="MPM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./mpm-cloud.db"
    mqtt_url: str | None = None
    mqtt_shared_group: str = "ingest"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    display_debounce_s: float = 0.2

    @field_validator("mqtt_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "mqtts"):
            raise ValueError("mqtt_url must start with mqtt:// or mqtts://")
        return value or None

    @field_validator("display_debounce_s")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("display_debounce_s must be ≥ 0")
        return value

    def mqtt_endpoint(self) -> MqttEndpoint | None:
        """The broker endpoint, or None when MQTT is off."""
        if self.mqtt_url is None:
            return None
        parts = urlsplit(self.mqtt_url)
        tls = parts.scheme == "mqtts"
        return MqttEndpoint(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
