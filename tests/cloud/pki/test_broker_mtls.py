"""ACC-2 against a real Mosquitto: mutual TLS with CA-issued agent certs, ACL by certificate CN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.pki import CertificateAuthority
from tests.cloud.pki.support import AGENT_ACL, ClientFiles, Session, issue_agent_files, mtls_broker, session


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca")


@pytest.fixture
def acl() -> str:
    return AGENT_ACL


@pytest.fixture
def port(ca: CertificateAuthority, tmp_path: Path, acl: str) -> Iterator[int]:
    with mtls_broker(ca, tmp_path / "broker", acl) as running:
        yield running


@pytest.fixture
def agent_a(ca: CertificateAuthority, tmp_path: Path) -> ClientFiles:
    return issue_agent_files(ca, "agent-a", tmp_path / "a")


@pytest.fixture
def agent_b(ca: CertificateAuthority, tmp_path: Path) -> ClientFiles:
    return issue_agent_files(ca, "agent-b", tmp_path / "b")


def test_agent_a_cannot_read_agent_b_topics(port: int, agent_a: ClientFiles, agent_b: ClientFiles) -> None:
    with (
        session("a", agent_a, port) as a,
        session("b-listener", agent_b, port) as b_listener,
        session("b", agent_b, port) as b,
    ):
        a.subscribe("mpm/v1/agent-b/#", "mpm/v1/+/up/events", "mpm/v1/agent-a/#")
        b_listener.subscribe("mpm/v1/agent-b/#")  # control: the same subscription, as B

        b.publish("mpm/v1/agent-b/up/events", b"secret of b")
        # Barrier instead of a sleep: B's message was routed before its PUBACK, so anything A would get
        # is queued ahead of A's own later marker.
        a.publish("mpm/v1/agent-a/marker", b"marker a")

        assert b"secret of b" not in a.wait_for_payload(b"marker a")
        assert b"secret of b" in b_listener.wait_for_payload(b"secret of b")


def test_agent_a_cannot_write_agent_b_topics(port: int, agent_a: ClientFiles, agent_b: ClientFiles) -> None:
    with session("a", agent_a, port) as a, session("b", agent_b, port) as b:
        b.subscribe("mpm/v1/agent-b/#")
        a.publish("mpm/v1/agent-b/down/cmd", b"forged by a")
        a.publish("mpm/v1/agent-b/up/events", b"forged by a")
        b.publish("mpm/v1/agent-b/status", b"marker b")  # control: B's own write reaches B

        assert b"forged by a" not in b.wait_for_payload(b"marker b")


@pytest.mark.parametrize("acl", ["pattern readwrite #\n"])
def test_control_the_delivery_checks_see_a_leak_under_a_permissive_acl(
    port: int, agent_a: ClientFiles, agent_b: ClientFiles
) -> None:
    with session("a", agent_a, port) as a, session("b", agent_b, port) as b:
        a.subscribe("mpm/v1/agent-b/#", "mpm/v1/agent-a/#")
        b.subscribe("mpm/v1/agent-b/#")
        b.publish("mpm/v1/agent-b/up/events", b"secret of b")
        a.publish("mpm/v1/agent-a/marker", b"marker a")
        a.publish("mpm/v1/agent-b/down/cmd", b"forged by a")
        b.publish("mpm/v1/agent-b/status", b"marker b")

        assert b"secret of b" in a.wait_for_payload(b"marker a")
        assert b"forged by a" in b.wait_for_payload(b"marker b")


def test_a_foreign_ca_client_cert_is_refused(port: int, tmp_path: Path) -> None:
    foreign = CertificateAuthority.create(tmp_path / "foreign")
    files = issue_agent_files(foreign, "agent-a", tmp_path / "foreign-agent")
    trusted_server = ClientFiles(ca=tmp_path / "broker" / "ca.crt", cert=files.cert, key=files.key)
    intruder = Session("intruder", trusted_server)
    try:
        assert not intruder.open(port)
    finally:
        intruder.close()


def test_plaintext_to_the_tls_port_fails(port: int, agent_a: ClientFiles) -> None:
    plain = Session("plain", None)
    try:
        assert not plain.open(port)
    finally:
        plain.close()
    control = Session("control", agent_a)
    try:
        assert control.open(port)
    finally:
        control.close()
