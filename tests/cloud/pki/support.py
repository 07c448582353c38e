"""Test helpers for the agent PKI: CSRs, issued credentials on disk, a mutual-TLS Mosquitto, paho sessions."""

from __future__ import annotations

import dataclasses
import getpass
import shutil
import signal
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from cloud.pki import CertificateAuthority
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

MOSQUITTO = "/usr/sbin/mosquitto"


def make_csr(
    key: CertificateIssuerPrivateKeyTypes, cn: str = "placeholder", sans: tuple[str, ...] = ()
) -> bytes:
    """A PEM CSR for ``key`` asking for ``cn`` and DNS SANs (which the CA must ignore)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in sans]), critical=False
        )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ClientFiles:
    """What a paho client needs for mutual TLS."""

    ca: Path
    cert: Path
    key: Path


def issue_agent_files(ca: CertificateAuthority, agent_id: str, directory: Path) -> ClientFiles:
    """Key + CSR made "on the agent", signed by ``ca``, all written under ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    directory.mkdir(parents=True, exist_ok=True)
    files = ClientFiles(
        ca=directory / "ca.crt", cert=directory / f"{agent_id}.crt", key=directory / "agent.key"
    )
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    files.cert.write_text(ca.sign_agent_csr(make_csr(key), agent_id))
    files.ca.write_text(ca.certificate_pem)
    return files


AGENT_ACL = "pattern readwrite mpm/v1/%u/#\n"


def mtls_config(port: int, directory: Path, acl: str = AGENT_ACL) -> str:
    """Mosquitto: one TLS listener that requires client certs and uses the CN as the username."""
    (directory / "acl").write_text(acl)
    return "\n".join(
        [
            # Started as root, Mosquitto drops to the "mosquitto" user before reading the ACL and could not
            # read the test's private temp dir: stay the user who runs the tests (ignored when not root).
            f"user {getpass.getuser()}",
            "per_listener_settings false",
            "allow_anonymous false",
            "persistence false",
            "log_dest stderr",
            "log_type all",
            f"acl_file {directory / 'acl'}",
            f"listener {port} 127.0.0.1",
            f"cafile {directory / 'ca.crt'}",
            f"certfile {directory / 'server.crt'}",
            f"keyfile {directory / 'server.key'}",
            "require_certificate true",
            "use_identity_as_username true",
            "",
        ]
    )


@contextmanager
def mtls_broker(ca: CertificateAuthority, directory: Path, acl: str = AGENT_ACL) -> Iterator[int]:
    """Run Mosquitto with ``ca`` as the only client CA on a free port; yield the port."""
    directory.mkdir(parents=True, exist_ok=True)
    ca.issue_server_cert(["localhost"], ["127.0.0.1"]).write(directory)
    (directory / "ca.crt").write_text(ca.certificate_pem)
    port = free_port()
    (directory / "mosquitto.conf").write_text(mtls_config(port, directory, acl))
    if shutil.which(MOSQUITTO) is None:
        raise RuntimeError(f"{MOSQUITTO} is required for the mutual-TLS tests")
    log = (directory / "mosquitto.log").open("wb")
    process = subprocess.Popen([MOSQUITTO, "-c", str(directory / "mosquitto.conf")], stdout=log, stderr=log)
    try:
        wait_for(lambda: accepts_tcp("127.0.0.1", port) or process.poll() is not None, what="mosquitto")
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited: {(directory / 'mosquitto.log').read_text()}")
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Session:
    """A paho client run on its own network thread, recording what it receives."""

    def __init__(self, name: str, files: ClientFiles | None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
        if files is not None:
            self.client.tls_set(
                ca_certs=str(files.ca), certfile=str(files.cert), keyfile=str(files.key),
                cert_reqs=ssl.CERT_REQUIRED,
            )  # fmt: skip
        self.connected = threading.Event()
        self.ended = threading.Event()
        self.received: list[tuple[str, bytes]] = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def open(self, port: int) -> bool:
        """Connect; True once the broker accepted (CONNACK 0), False if it refused or hung up."""
        try:
            self.client.connect("127.0.0.1", port, keepalive=30)
        except (ssl.SSLError, OSError):
            return False
        self.client.loop_start()
        wait_for(lambda: self.connected.is_set() or self.ended.is_set(), what="connect outcome")
        return self.connected.is_set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        # Break the Session <-> paho cycle (callbacks are bound methods): freed by reference count,
        # paho's __del__ closes its socket pair before the sockets are finalised (no ResourceWarning
        # from a garbage collection that happens to finalise the sockets first).
        self.client.on_connect = self.client.on_disconnect = self.client.on_message = None
        self.client.on_subscribe = None

    def subscribe(self, *topics: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_args: done.set()
        self.client.subscribe([(topic, 1) for topic in topics])
        wait_for(done.is_set, what="SUBACK")

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait for the PUBACK (the broker has routed it by then)."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def wait_for_payload(self, payload: bytes) -> list[bytes]:
        """Wait until ``payload`` has arrived; return every payload received up to then."""
        wait_for(lambda: payload in self.payloads(), what=f"delivery of {payload!r}")
        return self.payloads()

    def payloads(self) -> list[bytes]:
        return [payload for _topic, payload in list(self.received)]

    def _on_connect(self, _c: object, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        (self.ended if reason.is_failure else self.connected).set()

    def _on_disconnect(self, *_args: object) -> None:
        self.ended.set()

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        self.received.append((message.topic, bytes(message.payload)))


@contextmanager
def session(name: str, files: ClientFiles | None, port: int) -> Iterator[Session]:
    """A connected session that must be accepted by the broker."""
    client = Session(name, files)
    try:
        assert client.open(port), f"{name} was refused by the broker"
        yield client
    finally:
        client.close()
