"""Agent enrolment against the enrol contract: files and modes, refusals, no key ever sent or logged."""

from __future__ import annotations

import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloud.pki import CertificateAuthority
from edge_agent.enrolment import EnrolmentError, EnrolmentRefused, enroll, enrolment_status
from tests.cloud.pki.support import make_csr
from tests.edge_agent.enrolment.cloud_stub import CLOUD_URL, MQTT_URL, EnrolCloud
from tests.support.network import free_port

TOKEN = "tok-" + "x" * 40


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca")


@pytest.fixture
def cloud(ca: CertificateAuthority) -> EnrolCloud:
    return EnrolCloud(ca, {TOKEN: "site-7f3a"})


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def file_names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_enrolment_stores_identity_certificates_and_marker(
    cloud: EnrolCloud, ca: CertificateAuthority, state_dir: Path
) -> None:
    async with cloud.client() as http:
        enrolment = await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)

    assert enrolment.agent_id == "site-7f3a"
    assert enrolment.mqtt_url == MQTT_URL
    assert file_names(state_dir) == [
        "agent.crt", "agent.key", "ca.crt", "enrolled", "enrolment.json",
    ]  # fmt: skip
    assert mode(state_dir / "agent.key") == 0o600
    assert all(
        mode(state_dir / name) == 0o644 for name in ("agent.crt", "ca.crt", "enrolment.json", "enrolled")
    )
    record = json.loads((state_dir / "enrolment.json").read_text())
    assert record["agent_id"] == "site-7f3a"
    assert record["mqtt_url"] == MQTT_URL
    assert datetime.fromisoformat(record["enrolled_at"]).tzinfo is not None
    assert ca.verify_agent_cert((state_dir / "agent.crt").read_bytes()) == "site-7f3a"
    key = serialization.load_pem_private_key((state_dir / "agent.key").read_bytes(), None)
    certificate = x509.load_pem_x509_certificate((state_dir / "agent.crt").read_bytes())
    assert certificate.public_key() == key.public_key()
    assert (state_dir / "ca.crt").read_text() == ca.certificate_pem


async def test_the_private_key_is_never_sent_or_logged(
    cloud: EnrolCloud, state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with cloud.client() as http:
        await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)

    key = serialization.load_pem_private_key((state_dir / "agent.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secrets_ = [
        (state_dir / "agent.key").read_bytes().splitlines()[1],  # a base64 line of the PEM body
        format(key.private_numbers().private_value, "x").encode(),
        der.hex().encode(),
    ]
    (body,) = cloud.bodies
    assert set(json.loads(body)) == {"token", "csr"}
    assert b"PRIVATE" not in body
    logged = caplog.text.encode()
    for secret in secrets_:
        assert secret not in body
        assert secret not in logged
    # Control: the CSR that was sent carries the public half, so the check above looks at the right bytes.
    csr = x509.load_pem_x509_csr(json.loads(body)["csr"].encode())
    assert csr.public_key() == key.public_key()


async def test_a_refused_token_raises_with_the_cloud_detail(cloud: EnrolCloud, state_dir: Path) -> None:
    async with cloud.client() as http:
        with pytest.raises(EnrolmentRefused, match="unknown, used or expired") as refused:
            await enroll(CLOUD_URL, "not-a-token", state_dir, http_client=http)

    assert refused.value.status == 403
    assert refused.value.detail == "enrolment token is unknown, used or expired"
    assert file_names(state_dir) == []
    assert not enrolment_status(state_dir).enrolled


async def test_a_reused_token_is_refused_and_the_first_enrolment_survives(
    cloud: EnrolCloud, state_dir: Path
) -> None:
    async with cloud.client() as http:
        await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)
        key_before = (state_dir / "agent.key").read_bytes()
        with pytest.raises(EnrolmentRefused):
            await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)

    assert (state_dir / "agent.key").read_bytes() == key_before
    assert not (state_dir / "agent.key.pending").exists()
    status = enrolment_status(state_dir)
    assert status.enrolled
    assert status.chain_ok


async def test_a_server_error_is_not_a_refusal(cloud: EnrolCloud, state_dir: Path) -> None:
    cloud.status_override = 503
    async with cloud.client() as http:
        with pytest.raises(EnrolmentError, match="503") as failed:
            await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)
    assert not isinstance(failed.value, EnrolmentRefused)


async def test_a_certificate_for_another_key_is_not_stored(ca: CertificateAuthority, state_dir: Path) -> None:
    intruder = ec.generate_private_key(ec.SECP256R1())

    def wrong_key(_csr: str, agent_id: str) -> str:
        return ca.sign_agent_csr(make_csr(intruder), agent_id)

    cloud = EnrolCloud(ca, {TOKEN: "site-1"}, issuer=wrong_key)
    async with cloud.client() as http:
        with pytest.raises(EnrolmentError, match="not for this agent's key"):
            await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)
    assert not (state_dir / "enrolled").exists()
    assert not (state_dir / "agent.crt").exists()


async def test_an_unreachable_cloud_is_an_enrolment_error(state_dir: Path) -> None:
    with pytest.raises(EnrolmentError, match="cannot reach"):
        await enroll(f"http://127.0.0.1:{free_port()}", TOKEN, state_dir, timeout_s=5)


async def test_status_reports_days_to_expiry_and_a_broken_chain(
    cloud: EnrolCloud, state_dir: Path, tmp_path: Path
) -> None:
    async with cloud.client() as http:
        await enroll(CLOUD_URL, TOKEN, state_dir, http_client=http)

    status = enrolment_status(state_dir)
    assert status.enrolled
    assert status.chain_ok
    assert status.agent_id == "site-7f3a"
    assert status.days_to_expiry in (397, 398)
    assert status.problems == ()

    later = enrolment_status(state_dir, now=datetime.now(UTC) + timedelta(days=400))
    assert not later.chain_ok
    assert any("expired" in problem for problem in later.problems)
    assert later.days_to_expiry is not None
    assert later.days_to_expiry < 0

    other = CertificateAuthority.create(tmp_path / "other")
    (state_dir / "ca.crt").write_text(other.certificate_pem)
    broken = enrolment_status(state_dir)
    assert not broken.chain_ok
    assert broken.problems == ("the certificate was not issued by the CA in ca.crt",)


def test_status_of_an_empty_state_dir(tmp_path: Path) -> None:
    status = enrolment_status(tmp_path)
    assert not status.enrolled
    assert not status.chain_ok
    assert status.agent_id is None
