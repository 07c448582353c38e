"""What the CA accepts and what it writes into certificates: key policy and extension sets."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud.pki.errors import CsrRejected

# Key types every TLS stack we ship to (OpenSSL 1.1+/3 under Mosquitto, Python's ssl) handles for client
# authentication. Anything else (DSA, Ed25519, Ed448, X25519, …) is refused rather than half supported.
ALLOWED_CURVES: Final = frozenset({"secp256r1", "secp384r1", "secp521r1"})
MIN_RSA_BITS: Final = 2048

# Clock skew allowance: a freshly issued certificate must already be valid on a box whose clock runs
# a few minutes behind ours.
BACKDATE: Final = timedelta(minutes=5)

SERVER_AUTH: Final = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH: Final = ExtendedKeyUsageOID.CLIENT_AUTH

AgentPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def check_public_key(key: object) -> AgentPublicKey:
    """Return ``key`` if the policy accepts it; otherwise raise ``CsrRejected`` naming the reason."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ALLOWED_CURVES:
            raise CsrRejected(f"elliptic curve {key.curve.name} is not accepted")
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CsrRejected(f"RSA key of {key.key_size} bits is too short (minimum {MIN_RSA_BITS})")
        return key
    raise CsrRejected(f"key type {type(key).__name__} is not accepted")


def random_serial() -> int:
    """A positive 159-bit serial (RFC 5280 allows 20 octets; the top bit stays clear)."""
    return secrets.randbits(159) | 1


def common_name(value: str) -> x509.Name:
    """A subject or issuer name holding only a CN."""
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)])


def validity(now: datetime, days: int, ceiling: datetime) -> tuple[datetime, datetime]:
    """(not_before, not_after) for ``days`` from ``now``, never outliving the issuer (``ceiling``)."""
    if days < 1:
        raise ValueError("a certificate must be valid for at least one day")
    return now - BACKDATE, min(now + timedelta(days=days), ceiling)


def leaf_builder(
    *,
    subject: x509.Name,
    public_key: AgentPublicKey,
    issuer: x509.Certificate,
    window: tuple[datetime, datetime],
    usage: x509.ObjectIdentifier,
) -> x509.CertificateBuilder:
    """An end-entity certificate for one extended key usage (clientAuth or serverAuth)."""
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_key_usage(public_key), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False
        )
    )


def _leaf_key_usage(public_key: AgentPublicKey) -> x509.KeyUsage:
    # RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment; EC keys only ever sign.
    rsa_key = isinstance(public_key, rsa.RSAPublicKey)
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def ca_certificate(
    key: ec.EllipticCurvePrivateKey, name: str, now: datetime, days: int = 3653
) -> x509.Certificate:
    """A self-signed CA certificate: CA:TRUE, pathlen 0, keyCertSign + cRLSign."""
    public_key = key.public_key()
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    return (
        x509.CertificateBuilder()
        .subject_name(common_name(name))
        .issuer_name(common_name(name))
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )


def server_names(hostnames: Iterable[str], ips: Iterable[str]) -> x509.SubjectAlternativeName:
    """The SAN of a broker certificate: DNS names and IP addresses."""
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if not names:
        raise ValueError("a server certificate needs at least one hostname or IP address")
    return x509.SubjectAlternativeName(names)


def sign(builder: x509.CertificateBuilder, key: CertificateIssuerPrivateKeyTypes) -> x509.Certificate:
    """Sign with SHA-256 (the CA key is EC P-256)."""
    return builder.sign(key, hashes.SHA256())


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def crl(
    issuer: x509.Certificate,
    key: CertificateIssuerPrivateKeyTypes,
    revoked: Iterable[tuple[int, datetime]],
    now: datetime,
) -> x509.CertificateRevocationList:
    """A CRL of ``revoked`` (serial, when) valid until the CA itself expires.

    OpenSSL (under Mosquitto) refuses every client once a CRL's nextUpdate has passed, so the CRL lives
    as long as the CA: it is re-signed on every revocation, never left to go stale.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - BACKDATE)
        .next_update(issuer.not_valid_after_utc)
    )
    for serial, when in sorted(dict(revoked).items()):
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(key, hashes.SHA256())
