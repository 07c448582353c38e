"""TLS for mqtts: verification is always on; a client certificate is loaded for mutual TLS."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from edge_agent.config import TlsConfig
from edge_agent.link import tls_context


def test_default_context_verifies_the_server() -> None:
    context = tls_context(TlsConfig())
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_client_certificate_is_loaded_and_a_bad_one_fails(tmp_path: Path) -> None:
    key, cert = tmp_path / "agent.key", tmp_path / "agent.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=site-1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = tls_context(TlsConfig(ca_file=cert, cert_file=cert, key_file=key))
    assert context.verify_mode == ssl.CERT_REQUIRED
    (tmp_path / "broken.pem").write_text("not a certificate")
    with pytest.raises(ssl.SSLError):
        tls_context(TlsConfig(cert_file=tmp_path / "broken.pem", key_file=key))
