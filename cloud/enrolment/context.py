"""What the enrolment routes need, built once per process from the settings: CA, seal, URLs, limits."""

from __future__ import annotations

import dataclasses

from cloud.enrolment.attempts import AttemptWindow
from cloud.enrolment.sealing import TokenSeal
from cloud.pki import CA_KEY_FILE, CertificateAuthority, PkiError
from cloud.settings import CloudSettings


class EnrolmentNotConfigured(Exception):
    """The settings lack the CA directory or the agents' MQTT URL, or the CA does not load."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class EnrolmentContext:
    """The agent CA, the token seal, the broker URL agents get, the public cloud URL, the attempt limit."""

    authority: CertificateAuthority
    seal: TokenSeal
    agent_mqtt_url: str
    public_url: str | None = None
    attempts: AttemptWindow = dataclasses.field(default_factory=AttemptWindow)

    @classmethod
    def from_settings(cls, settings: CloudSettings) -> EnrolmentContext:
        """Load the CA named by ``settings``; raise ``EnrolmentNotConfigured`` saying what is missing."""
        if settings.enrolment_ca_dir is None or settings.agent_mqtt_url is None:
            raise EnrolmentNotConfigured(
                "agent enrolment is not configured: set MPM_ENROLMENT_CA_DIR and MPM_AGENT_MQTT_URL"
            )
        secret = settings.enrolment_ca_passphrase
        passphrase = secret.get_secret_value().encode() if secret else None
        try:
            authority = CertificateAuthority.load(settings.enrolment_ca_dir, passphrase=passphrase)
            key_file = (settings.enrolment_ca_dir / CA_KEY_FILE).read_bytes()
        except (PkiError, OSError) as error:
            raise EnrolmentNotConfigured(f"the agent CA does not load: {error}") from error
        return cls(
            authority=authority,
            seal=TokenSeal(key_file + b"\x00" + (passphrase or b"")),
            agent_mqtt_url=settings.agent_mqtt_url,
            public_url=settings.public_url.rstrip("/") if settings.public_url else None,
        )
