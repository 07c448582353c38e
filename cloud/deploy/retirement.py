"""Agent retirement at the broker: revoke the agent's certificates in the agent CA's CRL.

The broker reads ``<ca dir>/crl.pem`` at start and, after a revocation, on ``systemctl reload
mosquitto`` (SIGHUP): Mosquitto 2.0.11 rebuilds its listeners' TLS contexts on reload, CRL included
(tests/cloud/deploy/test_retirement.py proves both). Connections open at the reload stay up until
they reconnect; restart the broker to cut them at once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cloud.pki import CRL_FILE, CertificateAuthority, PkiError, revoke_agent
from cloud.settings import CloudSettings


class RevocationUnavailable(Exception):
    """The agent CA is configured but cannot be loaded or its CRL cannot be written."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Revocation:
    """Serials newly revoked (hex) and the CRL written; ``crl`` is None when no CA is configured."""

    serials: list[str]
    crl: Path | None


def revoke_certificates(settings: CloudSettings, agent_id: str) -> Revocation:
    """Revoke every certificate the agent CA issued to ``agent_id`` (nothing to do without a CA)."""
    if settings.enrolment_ca_dir is None:
        return Revocation(serials=[], crl=None)
    secret = settings.enrolment_ca_passphrase
    try:
        ca = CertificateAuthority.load(
            settings.enrolment_ca_dir, passphrase=secret.get_secret_value().encode() if secret else None
        )
        serials = revoke_agent(ca, agent_id)
    except (PkiError, OSError) as error:
        raise RevocationUnavailable(f"cannot revoke in {settings.enrolment_ca_dir}: {error}") from error
    return Revocation(serials=[f"{serial:x}" for serial in serials], crl=settings.enrolment_ca_dir / CRL_FILE)
