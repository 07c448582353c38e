"""The agent CA: identity assigned by the cloud, chain and validity checks, key policy, persistence."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud.pki import CA_KEY_FILE, CertificateAuthority, CertificateRejected, CsrRejected, PkiError
from tests.cloud.pki.support import make_csr


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca")


@pytest.fixture
def agent_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_forged_subject_and_san_are_replaced_by_the_assigned_id(
    ca: CertificateAuthority, agent_key: ec.EllipticCurvePrivateKey
) -> None:
    csr = make_csr(agent_key, cn="agent-b", sans=("agent-b", "broker.example"))
    certificate = x509.load_pem_x509_certificate(ca.sign_agent_csr(csr, "agent-a").encode())

    assert certificate.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent-a")])
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert certificate.public_key() == agent_key.public_key()
    assert ca.verify_agent_cert(certificate.public_bytes(serialization.Encoding.PEM)) == "agent-a"


def test_issued_certificate_has_the_client_profile(
    ca: CertificateAuthority, agent_key: ec.EllipticCurvePrivateKey
) -> None:
    certificate = x509.load_pem_x509_certificate(ca.sign_agent_csr(make_csr(agent_key), "site-1").encode())
    extensions = certificate.extensions
    assert list(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca_ski
    assert extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc <= timedelta(
        days=398, minutes=5
    )


def test_serials_are_random(ca: CertificateAuthority, agent_key: ec.EllipticCurvePrivateKey) -> None:
    csr = make_csr(agent_key)
    serials = {
        x509.load_pem_x509_certificate(ca.sign_agent_csr(csr, "a").encode()).serial_number for _ in "abc"
    }
    assert len(serials) == 3
    assert all(serial.bit_length() > 64 for serial in serials)


def test_a_certificate_verifies_with_its_ca_and_not_with_another(
    ca: CertificateAuthority, agent_key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    other = CertificateAuthority.create(tmp_path / "other", name=ca.certificate.subject.rfc4514_string()[3:])
    certificate = ca.sign_agent_csr(make_csr(agent_key), "agent-a")

    assert ca.verify_agent_cert(certificate) == "agent-a"  # control
    with pytest.raises(CertificateRejected, match="signature"):
        other.verify_agent_cert(certificate)  # same issuer name, different key
    with pytest.raises(CertificateRejected):
        ca.verify_agent_cert(other.sign_agent_csr(make_csr(agent_key), "agent-a"))


def test_expired_and_not_yet_valid_certificates_are_rejected(
    agent_key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    ca = CertificateAuthority.create(tmp_path / "ca", now=now - timedelta(days=10))
    old = ca.sign_agent_csr(make_csr(agent_key), "agent-a", valid_days=1, now=now - timedelta(days=3))
    assert ca.verify_agent_cert(old, now=now - timedelta(days=2, hours=1)) == "agent-a"  # control
    with pytest.raises(CertificateRejected, match="expired"):
        ca.verify_agent_cert(old)
    future = ca.sign_agent_csr(make_csr(agent_key), "agent-a", now=now + timedelta(days=2))
    with pytest.raises(CertificateRejected, match="not valid before"):
        ca.verify_agent_cert(future)


def test_nothing_verifies_outside_the_ca_validity(
    agent_key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    ca = CertificateAuthority.create(tmp_path / "ca", now=now)
    certificate = ca.sign_agent_csr(make_csr(agent_key), "agent-a", now=now - timedelta(days=1))
    with pytest.raises(CertificateRejected, match="the CA certificate is not valid before"):
        ca.verify_agent_cert(certificate, now=now - timedelta(hours=1))
    assert ca.verify_agent_cert(certificate) == "agent-a"  # control


def test_a_server_certificate_is_not_an_agent_certificate(ca: CertificateAuthority) -> None:
    server = ca.issue_server_cert(["localhost"], ["127.0.0.1"])
    certificate = x509.load_pem_x509_certificate(server.certificate_pem.encode())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    with pytest.raises(CertificateRejected, match="client authentication"):
        ca.verify_agent_cert(server.certificate_pem)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "too short"),
        (ed25519.Ed25519PrivateKey.generate(), "not accepted"),
        (ec.generate_private_key(ec.SECP256K1()), "not accepted"),
    ],
    ids=["rsa-1024", "ed25519", "secp256k1"],
)
def test_weak_or_unknown_keys_are_refused(
    ca: CertificateAuthority, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, reason: str
) -> None:
    with pytest.raises(CsrRejected, match=reason):
        ca.sign_agent_csr(make_csr(key), "agent-a")


def test_rsa_2048_is_accepted(ca: CertificateAuthority) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert ca.verify_agent_cert(ca.sign_agent_csr(make_csr(key), "agent-a")) == "agent-a"


def test_a_csr_whose_signature_does_not_verify_is_refused(
    ca: CertificateAuthority, agent_key: ec.EllipticCurvePrivateKey
) -> None:
    csr = x509.load_pem_x509_csr(make_csr(agent_key, cn="aaaaaaaa"))
    tampered = csr.public_bytes(serialization.Encoding.DER).replace(b"aaaaaaaa", b"bbbbbbbb")
    pem = x509.load_der_x509_csr(tampered).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(CsrRejected, match="signature"):
        ca.sign_agent_csr(pem, "agent-a")
    with pytest.raises(CsrRejected, match="PEM"):
        ca.sign_agent_csr(b"not a csr", "agent-a")


@pytest.mark.parametrize("agent_id", ["Agent-A", "agent/a", "agent+", "", "a" * 65, "-a", "agent_a"])
def test_invalid_agent_ids_are_refused(
    ca: CertificateAuthority, agent_key: ec.EllipticCurvePrivateKey, agent_id: str
) -> None:
    with pytest.raises(CsrRejected):
        ca.sign_agent_csr(make_csr(agent_key), agent_id)


def test_the_ca_is_persisted_with_a_private_key_file(tmp_path: Path) -> None:
    created = CertificateAuthority.create(tmp_path / "ca")
    key_file = tmp_path / "ca" / CA_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The broker (its own user) reads ca.crt and crl.pem; only ca.key is private.
    assert stat.S_IMODE((tmp_path / "ca").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "ca" / "ca.crt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "ca" / "crl.pem").stat().st_mode) == 0o644
    assert b"ENCRYPTED" not in key_file.read_bytes()

    loaded = CertificateAuthority.load(tmp_path / "ca")
    assert loaded.certificate == created.certificate
    key = ec.generate_private_key(ec.SECP256R1())
    assert created.verify_agent_cert(loaded.sign_agent_csr(make_csr(key), "agent-a")) == "agent-a"
    with pytest.raises(PkiError, match="already exists"):
        CertificateAuthority.create(tmp_path / "ca")


def test_the_ca_certificate_profile(ca: CertificateAuthority) -> None:
    certificate = ca.certificate
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc >= timedelta(days=3650)


def test_a_passphrase_encrypts_the_ca_key(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path / "ca", passphrase=b"correct horse")
    assert b"ENCRYPTED" in (tmp_path / "ca" / CA_KEY_FILE).read_bytes()
    CertificateAuthority.load(tmp_path / "ca", passphrase=b"correct horse")
    with pytest.raises(PkiError):
        CertificateAuthority.load(tmp_path / "ca", passphrase=b"wrong")
    with pytest.raises(PkiError):
        CertificateAuthority.load(tmp_path / "ca")
