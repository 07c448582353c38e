"""``mpm-cloud ca-init``: the agent CA that enrolment signs with, made by the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from cloud.pki import CertificateAuthority, PkiError

MPM_CLOUD = str(Path(sys.executable).with_name("mpm-cloud"))


def ca_init(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MPM_")} | (env or {})
    return subprocess.run(
        [MPM_CLOUD, "ca-init", *args], capture_output=True, text=True, timeout=60, env=clean, check=False
    )


def test_creates_a_loadable_ca_and_a_broker_certificate(tmp_path: Path) -> None:
    directory = tmp_path / "ca"
    result = ca_init("--dir", str(directory), "--broker-host", "localhost", "--broker-host", "127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(directory / "ca.crt"), str(directory / "broker.crt")]
    ca = CertificateAuthority.load(directory)
    assert (directory / "ca.key").stat().st_mode & 0o777 == 0o600
    broker = x509.load_pem_x509_certificate((directory / "broker.crt").read_bytes())
    broker.verify_directly_issued_by(ca.certificate)
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_refuses_to_replace_an_existing_ca(tmp_path: Path) -> None:
    assert ca_init("--dir", str(tmp_path)).returncode == 0
    key = (tmp_path / "ca.key").read_bytes()
    again = ca_init("--dir", str(tmp_path))
    assert again.returncode == 1
    assert "refusing to replace a CA key" in again.stderr
    assert (tmp_path / "ca.key").read_bytes() == key


def test_directory_and_passphrase_from_the_environment(tmp_path: Path) -> None:
    env = {"MPM_ENROLMENT_CA_DIR": str(tmp_path), "MPM_ENROLMENT_CA_PASSPHRASE": "s3cret"}
    assert ca_init(env=env).returncode == 0
    CertificateAuthority.load(tmp_path, passphrase=b"s3cret")
    with pytest.raises(PkiError):
        CertificateAuthority.load(tmp_path)


def test_without_a_directory_is_a_configuration_error() -> None:
    result = ca_init()
    assert result.returncode == 78
    assert "--dir or MPM_ENROLMENT_CA_DIR" in result.stderr
