"""The cloud's agent PKI: a CA that assigns agent identities, broker certificates, enrolment tokens."""

from cloud.pki.authority import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    CRL_FILE,
    DEFAULT_AGENT_DAYS,
    CertificateAuthority,
    ServerCredentials,
)
from cloud.pki.errors import CertificateRejected, CsrRejected, PkiError
from cloud.pki.qr import qr_png
from cloud.pki.revocation import ensure_crl, revoke_agent, revoked_serials
from cloud.pki.tokens import (
    EnrolmentToken,
    hash_enrolment_token,
    hash_short_code,
    new_enrolment_token,
    normalise_short_code,
)

__all__ = [
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CRL_FILE",
    "DEFAULT_AGENT_DAYS",
    "CertificateAuthority",
    "CertificateRejected",
    "CsrRejected",
    "EnrolmentToken",
    "PkiError",
    "ServerCredentials",
    "ensure_crl",
    "hash_enrolment_token",
    "hash_short_code",
    "new_enrolment_token",
    "normalise_short_code",
    "qr_png",
    "revoke_agent",
    "revoked_serials",
]
