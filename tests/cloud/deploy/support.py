"""A broker run from the GENERATED configuration (``mpm-cloud broker-config``), and its open twin.

The open twin is the same file without ``acl_file`` and ``use_username_as_clientid``: mutual TLS
still, but no ACL and no client-id forcing (what docs/INSTALL.md described before). Every proof runs
against both, so a check that could not see a hole fails on the open twin.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import pwd
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cloud.deploy.broker_config import BrokerPlan, write_broker_files
from cloud.pki import CA_CERT_FILE, CertificateAuthority
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.pki.support import MOSQUITTO, ClientFiles, issue_agent_files
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

CLOUD = "mpm-cloud"  # the ingest worker's identity
OPERATOR = "mpm-cloud-2"  # a second cloud identity: the test's own publisher on down topics


@dataclasses.dataclass
class Deployment:
    """A running broker from generated files, with a CA and credentials for two agents and the cloud."""

    kind: str  # "generated" or "open"
    port: int
    ca: CertificateAuthority
    directory: Path
    agent_a: ClientFiles
    agent_b: ClientFiles
    cloud: ClientFiles
    operator: ClientFiles
    process: subprocess.Popen[bytes] | None = None

    @property
    def open(self) -> bool:
        return self.kind == "open"

    @property
    def log(self) -> Path:
        return self.directory / "mosquitto.log"

    def start(self) -> None:
        """Start Mosquitto on the configuration (again, after ``stop``) and wait until it listens.

        Other test runs share the machine: a port taken between ``free_port`` and the bind is
        replaced by another free one (the listener line of the generated file is rewritten).
        """
        for _attempt in range(5):
            if self._try_start():
                return
            config = self.directory / "broker" / "mosquitto.conf"
            new_port = free_port()
            config.write_text(config.read_text().replace(f"listener {self.port}\n", f"listener {new_port}\n"))
            self.port = new_port
        raise RuntimeError(f"mosquitto could not bind a free port: {self.log.read_text()}")

    def _try_start(self) -> bool:
        logged = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.directory / "broker" / "mosquitto.conf")], stdout=log, stderr=log
            )
        process = self.process
        wait_for(lambda: accepts_tcp("127.0.0.1", self.port) or process.poll() is not None, what="broker")
        if process.poll() is None:
            return True
        self.process = None
        if b"Address already in use" in self.log.read_bytes()[logged:]:
            return False
        raise RuntimeError(f"mosquitto exited: {self.log.read_text()}")

    def reload(self) -> None:
        """What ``systemctl reload mosquitto`` does: SIGHUP."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def identity_files(ca: CertificateAuthority, name: str, directory: Path) -> ClientFiles:
    """What ``mpm-cloud mqtt-identity --name NAME`` writes."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = ca.issue_client_cert(name).write(directory, "cloud")
    (directory / CA_CERT_FILE).write_text(ca.certificate_pem)
    return ClientFiles(ca=directory / CA_CERT_FILE, cert=cert, key=key)


def open_twin(config: str) -> str:
    """The generated configuration without its ACL and without client-id forcing."""
    dropped = ("acl_file ", "use_username_as_clientid ")
    return "".join(line for line in config.splitlines(keepends=True) if not line.startswith(dropped))


@contextmanager
def deployed_broker(tmp: Path, kind: str = "generated") -> Iterator[Deployment]:
    """CA, broker files by ``write_broker_files``, agents ``agent-a`` / ``agent-b``; Mosquitto running."""
    ca = CertificateAuthority.create(tmp / "ca")
    port = free_port()
    plan = BrokerPlan(
        ca_dir=tmp / "ca",
        out=tmp / "broker",
        port=port,
        # Tests run as root (or a developer): the broker keeps that user and its group reads the key.
        broker_user=pwd.getpwuid(os.getuid()).pw_name,
        cloud_identities=(CLOUD, OPERATOR),
        hostnames=("localhost", "127.0.0.1"),
    )
    files = write_broker_files(plan, ca)
    if kind == "open":
        files.config.write_text(open_twin(files.config.read_text()))
    deployment = Deployment(
        kind=kind,
        port=port,
        ca=ca,
        directory=tmp,
        agent_a=issue_agent_files(ca, "agent-a", tmp / "a"),
        agent_b=issue_agent_files(ca, "agent-b", tmp / "b"),
        cloud=identity_files(ca, CLOUD, tmp / "cloud"),
        operator=identity_files(ca, OPERATOR, tmp / "operator"),
    )
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop()


def loss_report_batch() -> tuple[str, bytes]:
    """(event id, payload) of a valid one-event batch the ingest stores in ``agent_event``."""
    event = sync.Event(
        id=events.uuid7(),
        seq=1,
        kind=sync.EventKind.LOSS_REPORT.value,
        device="agent",
        occurred_at=dt.datetime.now(dt.UTC),
        device_time="",
        received_at=dt.datetime.now(dt.UTC),
        data=sync.LossReport(dropped_total=0, dropped_by_kind={}).to_data(),
    )
    return event.id, sync.encode(sync.EventBatch(batch_id=events.uuid7(), events=(event,)))
