"""Checks of issued credentials, shared by ``enroll`` (before storing) and ``enrolment_status``."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def check_issued(
    certificate_pem: str, ca_pem: str, key: ec.EllipticCurvePrivateKey, agent_id: str
) -> str | None:
    """None when the certificate is for ``key`` and ``agent_id`` and signed by the CA; else the problem."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        ca = x509.load_pem_x509_certificate(ca_pem.encode())
    except ValueError:
        return "the certificate or the CA certificate is not PEM"
    if certificate.public_key() != key.public_key():
        return "the certificate is not for this agent's key"
    if common_name(certificate) != agent_id:
        return f"the certificate names {common_name(certificate)!r}, not {agent_id!r}"
    return chain_problem(certificate, ca)


def chain_problem(certificate: x509.Certificate, ca: x509.Certificate) -> str | None:
    """None when ``ca`` (a CA certificate) signed ``certificate`` for client authentication."""
    try:
        if not ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return "the CA certificate is not a CA"
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        certificate.verify_directly_issued_by(ca)
    except x509.ExtensionNotFound as error:
        return f"a required extension is missing: {error}"
    except (InvalidSignature, ValueError, TypeError):
        return "the certificate was not issued by the CA in ca.crt"
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        return "the certificate is not for client authentication"
    return None


def window_problem(certificate: x509.Certificate, now: datetime) -> str | None:
    """None when ``now`` is inside the certificate's validity window."""
    if now < certificate.not_valid_before_utc:
        return f"the certificate is not valid before {certificate.not_valid_before_utc.isoformat()}"
    if now > certificate.not_valid_after_utc:
        return f"the certificate expired at {certificate.not_valid_after_utc.isoformat()}"
    return None


def common_name(certificate: x509.Certificate) -> str | None:
    """The subject CN, or None when there is not exactly one text CN."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if len(names) == 1 and isinstance(names[0].value, str) else None
