"""The cloud's certificate authority for agents (PRIVACY.md ACC-2, ACC-3).

An agent makes its own key and sends a CSR; the CA checks the CSR's signature and key, then issues a
client certificate whose CN is the id *the cloud* assigned. Whatever subject or SAN the agent asked
for is ignored, so an agent can never name itself into another agent's MQTT subtree: the broker uses
the CN as the username (``use_identity_as_username``) and the ACL written by ``mpm-cloud broker-config``.

On disk: ``ca.key`` (PKCS#8 PEM, mode 0600, encrypted when a passphrase is configured), ``ca.crt`` and
``crl.pem`` (0644: the broker reads them), and ``issued.txt`` (0600: every agent serial, for revocation).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud.pki import _policy
from cloud.pki._files import write_atomic
from cloud.pki._issued import record_issued
from cloud.pki.csr import load_csr
from cloud.pki.errors import CertificateRejected, CsrRejected, PkiError
from firmware_protocols.sync import validate_agent_id
from firmware_protocols.sync.errors import SyncProtocolError

CA_KEY_FILE: Final = "ca.key"
CA_CERT_FILE: Final = "ca.crt"
CRL_FILE: Final = "crl.pem"
DEFAULT_CA_NAME: Final = "MPM Edge agent CA"
# 398 days: the longest lifetime browsers accept for TLS leaves; agents renew well before it ends.
DEFAULT_AGENT_DAYS: Final = 398


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ServerCredentials:
    """A broker certificate and its private key, both PEM."""

    certificate_pem: str
    private_key_pem: str

    def write(self, directory: Path, stem: str = "server") -> tuple[Path, Path]:
        """Write ``<stem>.crt`` (0644) and ``<stem>.key`` (0600); return their paths."""
        cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
        write_atomic(cert, self.certificate_pem.encode(), mode=0o644)
        write_atomic(key, self.private_key_pem.encode(), mode=0o600)
        return cert, key


class CertificateAuthority:
    """An EC P-256 CA that signs agent client certificates and broker server certificates."""

    def __init__(
        self,
        *,
        key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        directory: Path | None = None,
    ) -> None:
        self._key = key
        self.certificate = certificate
        # Where the CA lives on disk (create/load set it): agent serials are recorded there for the CRL.
        self.directory = directory

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        passphrase: bytes | None = None,
        name: str = DEFAULT_CA_NAME,
        now: datetime | None = None,
    ) -> CertificateAuthority:
        """Make a new CA (10 years) and persist it in ``directory``; refuse to overwrite one."""
        if (directory / CA_KEY_FILE).exists():
            raise PkiError(f"{directory / CA_KEY_FILE} already exists; refusing to replace a CA key")
        key = ec.generate_private_key(ec.SECP256R1())
        when = now or _policy.utc_now()
        ca = cls(key=key, certificate=_policy.ca_certificate(key, name, when), directory=directory)
        # 0755: the broker, running as its own user, reads ca.crt and crl.pem here; ca.key stays 0600.
        directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(directory, 0o755)
        write_atomic(directory / CA_KEY_FILE, _private_pem(key, passphrase), mode=0o600)
        write_atomic(directory / CA_CERT_FILE, ca.certificate_pem.encode(), mode=0o644)
        ca.write_crl(revoked=[], now=when)
        return ca

    @classmethod
    def load(cls, directory: Path, *, passphrase: bytes | None = None) -> CertificateAuthority:
        """Load the CA persisted in ``directory`` by ``create``."""
        try:
            key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), passphrase)
        except (ValueError, TypeError) as error:  # wrong or missing passphrase, corrupt file
            raise PkiError(f"cannot load the CA key from {directory}: {error}") from error
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError("the CA key is not an EC key")
        certificate = x509.load_pem_x509_certificate((directory / CA_CERT_FILE).read_bytes())
        if certificate.public_key() != key.public_key():
            raise PkiError("ca.crt does not belong to ca.key")
        return cls(key=key, certificate=certificate, directory=directory)

    @property
    def certificate_pem(self) -> str:
        """The CA certificate, PEM: what agents and the broker trust."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign_agent_csr(
        self,
        csr_pem: str | bytes,
        agent_id: str,
        *,
        valid_days: int = DEFAULT_AGENT_DAYS,
        now: datetime | None = None,
    ) -> str:
        """Issue a clientAuth certificate with CN = ``agent_id`` for the key in ``csr_pem``."""
        _check_agent_id(agent_id)
        public_key = _policy.check_public_key(_load_csr(csr_pem).public_key())
        window = _policy.validity(now or _policy.utc_now(), valid_days, self.certificate.not_valid_after_utc)
        builder = _policy.leaf_builder(
            subject=_policy.common_name(agent_id),
            public_key=public_key,
            issuer=self.certificate,
            window=window,
            usage=_policy.CLIENT_AUTH,
        )
        certificate = _policy.sign(builder, self._key)
        if self.directory is not None:
            record_issued(self.directory, certificate.serial_number, agent_id)
        return _pem(certificate)

    def issue_client_cert(self, name: str, *, valid_days: int = DEFAULT_AGENT_DAYS) -> ServerCredentials:
        """A clientAuth certificate and a fresh key for ``name`` (the cloud's own MQTT identity)."""
        _check_agent_id(name)
        key = ec.generate_private_key(ec.SECP256R1())
        window = _policy.validity(_policy.utc_now(), valid_days, self.certificate.not_valid_after_utc)
        builder = _policy.leaf_builder(
            subject=_policy.common_name(name),
            public_key=key.public_key(),
            issuer=self.certificate,
            window=window,
            usage=_policy.CLIENT_AUTH,
        )
        return ServerCredentials(
            certificate_pem=_pem(_policy.sign(builder, self._key)),
            private_key_pem=_private_pem(key, None).decode(),
        )

    def write_crl(self, *, revoked: Iterable[tuple[int, datetime]], now: datetime | None = None) -> Path:
        """Sign a CRL listing ``revoked`` (serial, revocation time) and write it to ``crl.pem`` (0644)."""
        if self.directory is None:
            raise PkiError("this CA has no directory to write its CRL to")
        crl = _policy.crl(self.certificate, self._key, revoked, now or _policy.utc_now())
        path = self.directory / CRL_FILE
        write_atomic(path, crl.public_bytes(serialization.Encoding.PEM), mode=0o644)
        return path

    def verify_agent_cert(self, cert_pem: str | bytes, *, now: datetime | None = None) -> str:
        """Return the agent id of a certificate this CA issued, valid at ``now``, for clientAuth."""
        certificate, when = _load_certificate(cert_pem), now or _policy.utc_now()
        self._check_issued_by_me(certificate)
        _check_window(self.certificate, when, "the CA certificate")
        _check_window(certificate, when, "the certificate")
        _check_client_usage(certificate)
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(names) != 1 or not isinstance(names[0].value, str):
            raise CertificateRejected("the certificate must carry exactly one CN")
        try:
            return validate_agent_id(names[0].value)
        except SyncProtocolError as error:
            raise CertificateRejected(str(error)) from error

    def issue_server_cert(
        self,
        hostnames: Iterable[str],
        ips: Iterable[str] = (),
        *,
        valid_days: int = DEFAULT_AGENT_DAYS,
        now: datetime | None = None,
    ) -> ServerCredentials:
        """A serverAuth certificate for a broker reachable at ``hostnames`` / ``ips`` (tests, demo)."""
        hostnames, ips = list(hostnames), list(ips)
        key = ec.generate_private_key(ec.SECP256R1())
        window = _policy.validity(now or _policy.utc_now(), valid_days, self.certificate.not_valid_after_utc)
        builder = _policy.leaf_builder(
            subject=_policy.common_name(hostnames[0] if hostnames else ips[0]),
            public_key=key.public_key(),
            issuer=self.certificate,
            window=window,
            usage=_policy.SERVER_AUTH,
        ).add_extension(_policy.server_names(hostnames, ips), critical=False)
        return ServerCredentials(
            certificate_pem=_pem(_policy.sign(builder, self._key)),
            private_key_pem=_private_pem(key, None).decode(),
        )

    def _check_issued_by_me(self, certificate: x509.Certificate) -> None:
        if certificate.issuer != self.certificate.subject:
            raise CertificateRejected("the certificate was not issued by this CA")
        try:
            certificate.verify_directly_issued_by(self.certificate)
        except (InvalidSignature, ValueError, TypeError) as error:
            raise CertificateRejected("the certificate's signature does not verify with this CA") from error


def _check_agent_id(agent_id: str) -> None:
    try:
        validate_agent_id(agent_id)
    except SyncProtocolError as error:
        raise CsrRejected(str(error)) from error


def _load_csr(csr_pem: str | bytes) -> x509.CertificateSigningRequest:
    return load_csr(csr_pem)  # total: CsrRejected for anything but one verified request


def _load_certificate(cert_pem: str | bytes) -> x509.Certificate:
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as error:
        raise CertificateRejected("not a PEM certificate") from error


def _check_window(certificate: x509.Certificate, now: datetime, what: str) -> None:
    if now < certificate.not_valid_before_utc:
        raise CertificateRejected(f"{what} is not valid before {certificate.not_valid_before_utc}")
    if now > certificate.not_valid_after_utc:
        raise CertificateRejected(f"{what} expired at {certificate.not_valid_after_utc}")


def _check_client_usage(certificate: x509.Certificate) -> None:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound as error:
        raise CertificateRejected("the certificate lacks extendedKeyUsage or basicConstraints") from error
    if _policy.CLIENT_AUTH not in usages:
        raise CertificateRejected("the certificate is not for client authentication")
    if constraints.ca:
        raise CertificateRejected("a CA certificate is not an agent certificate")


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _private_pem(key: ec.EllipticCurvePrivateKey, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
