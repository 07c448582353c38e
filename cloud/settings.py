"""Cloud settings (env prefix ``MPM_``), built once at start-up and never at import."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Final, Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.privacy import MasterKey

# The development master key: public, so anything it protects is not protected. Used only when no
# MPM_MASTER_KEY is set and the environment is "development" (or MPM_ALLOW_DEV_KEY is true).
DEV_MASTER_KEY: Final = MasterKey(hashlib.sha256(b"mpm-edge development master key").digest())
MAKE_A_KEY: Final = "make one with: openssl rand -base64 32"
NO_MASTER_KEY: Final = (
    "MPM_MASTER_KEY is not set and MPM_ENVIRONMENT is production (the default): refusing to encrypt "
    f"with the public development key; {MAKE_A_KEY} (keep it safe: it wraps every organisation's "
    "data key), or set MPM_ENVIRONMENT=development for a test set-up"
)
DEV_KEY_WARNING: Final = (
    "the PUBLIC development master key is in use: sensitive fields are NOT protected; "
    f"set MPM_MASTER_KEY ({MAKE_A_KEY}) before storing real data"
)


class MasterKeyMissing(Exception):
    """Production without MPM_MASTER_KEY: the process must not start (exit 78)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class MqttEndpoint:
    """Where the broker is: parsed from ``mqtt_url`` (``mqtt://`` plain, ``mqtts://`` TLS)."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    # mqtts:// only: the CA that signed the broker's certificate (None: the system's trust store) and
    # the cloud's own client certificate and key for brokers that require one (mutual TLS).
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class CloudSettings(BaseSettings):
    """Everything the cloud service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="MPM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./mpm-cloud.db"
    mqtt_url: str | None = None
    mqtt_shared_group: str = "ingest"
    # The cloud's MQTT identity (``mpm-cloud mqtt-identity``): CA of the broker, client cert and key.
    mqtt_ca_file: Path | None = None
    mqtt_cert_file: Path | None = None
    mqtt_key_file: Path | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    display_debounce_s: float = 0.2
    # Production unless told otherwise: a forgotten setting must fail safe, not fall back to the dev key.
    environment: Literal["development", "production"] = "production"
    master_key: SecretStr | None = None  # base64 of 32 bytes; wraps every organisation's data key
    # The master key being rotated away: still accepted for reading until ``mpm-cloud keys rotate``
    # has re-wrapped every data key under ``master_key``; then remove it and destroy it.
    master_key_previous: SecretStr | None = None
    allow_dev_key: bool = False
    # Lifetime of a bearer token issued without an explicit expiry (the first org-admin token included).
    token_lifetime_days: int = Field(default=90, ge=1, le=3650)
    # Agent enrolment (ACC-3): the agent CA's directory (ca.key + ca.crt from CertificateAuthority.create),
    # its key passphrase, the broker URL enrolled agents are told to use, and the cloud URL put in QR
    # codes (unset: the URL the admin called). Enrolment answers 503 until the CA dir and agent URL are set.
    enrolment_ca_dir: Path | None = None
    enrolment_ca_passphrase: SecretStr | None = None
    agent_mqtt_url: str | None = None
    public_url: str | None = None

    @field_validator("mqtt_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "mqtts"):
            raise ValueError("mqtt_url must start with mqtt:// or mqtts://")
        return value or None

    @field_validator("agent_mqtt_url")
    @classmethod
    def _agent_url_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "mqtts"):
            raise ValueError("agent_mqtt_url must start with mqtt:// or mqtts://")
        return value or None

    @field_validator("display_debounce_s")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("display_debounce_s must be ≥ 0")
        return value

    @field_validator("master_key", "master_key_previous")
    @classmethod
    def _valid_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            MasterKey.from_base64(value.get_secret_value())  # raises ValueError with the reason
        return value

    @model_validator(mode="after")
    def _mqtt_tls_files_fit(self) -> Self:
        if (self.mqtt_cert_file is None) != (self.mqtt_key_file is None):
            raise ValueError("MPM_MQTT_CERT_FILE and MPM_MQTT_KEY_FILE go together: set both or neither")
        tls_files = (self.mqtt_ca_file, self.mqtt_cert_file, self.mqtt_key_file)
        plain = self.mqtt_url is not None and urlsplit(self.mqtt_url).scheme == "mqtt"
        if plain and any(tls_files):
            raise ValueError("MPM_MQTT_CA_FILE/CERT_FILE/KEY_FILE need an mqtts:// MPM_MQTT_URL")
        return self

    def master_key_refusal(self) -> str | None:
        """Why this process may not run (production without a master key), or None."""
        if self.environment == "production" and self.master_key is None and not self.allow_dev_key:
            return NO_MASTER_KEY
        return None

    def uses_dev_key(self) -> bool:
        """True when the public development key protects this cloud's data."""
        return self.master_key is None

    def master(self) -> MasterKey:
        """The configured master key, or the public development key where that is allowed."""
        refusal = self.master_key_refusal()
        if refusal is not None:
            raise MasterKeyMissing(refusal)
        current = (
            DEV_MASTER_KEY
            if self.master_key is None
            else MasterKey.from_base64(self.master_key.get_secret_value())
        )
        if self.master_key_previous is None:
            return current
        return current.with_previous(MasterKey.from_base64(self.master_key_previous.get_secret_value()))

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
            ca_file=self.mqtt_ca_file,
            cert_file=self.mqtt_cert_file,
            key_file=self.mqtt_key_file,
        )
