"""The cloud's own MQTT identity: mutual TLS failures are one clear log line each, retried, never a crash."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import pytest

from cloud.db.session import SessionFactory
from cloud.displays.publisher import DisplayPublisher
from cloud.ingest.worker import IngestWorker
from cloud.pki import CertificateAuthority
from cloud.settings import MqttEndpoint
from tests.cloud.deploy.support import Deployment, deployed_broker, identity_files
from tests.support.polling import async_wait_for


def endpoint(deployment: Deployment, *, ca: Path, cert: Path | None, key: Path | None) -> MqttEndpoint:
    return MqttEndpoint(
        host="127.0.0.1", port=deployment.port, tls=True, username=None, password=None,
        ca_file=ca, cert_file=cert, key_file=key,
    )  # fmt: skip


async def errors_while_running(
    sessions: SessionFactory, target: MqttEndpoint, caplog: pytest.LogCaptureFixture, needle: str
) -> list[str]:
    """Run an ingest worker on ``target`` until an ERROR containing ``needle`` is logged; it must live on."""
    worker = IngestWorker(target, "ingest", sessions, DisplayPublisher(sessions, 0.05))
    task = asyncio.create_task(worker.run())
    try:

        async def logged() -> list[str]:
            return [
                r.getMessage()
                for r in caplog.records
                if r.levelno >= logging.ERROR and needle in r.getMessage()
            ]

        found = await async_wait_for(logged, timeout=20, what=f"an error naming {needle}")
        assert not task.done()  # backoff and retry, not a crash
        assert not worker.subscribed.is_set()
        return found
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_client_certificate_from_another_ca_is_named_in_the_log(
    sessions: SessionFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    foreign = identity_files(CertificateAuthority.create(tmp_path / "foreign"), "mpm-cloud", tmp_path / "f")
    with deployed_broker(tmp_path / "broker") as deployed:
        target = endpoint(deployed, ca=deployed.cloud.ca, cert=foreign.cert, key=foreign.key)
        found = await errors_while_running(sessions, target, caplog, str(foreign.cert))
    assert "CN=mpm-cloud" in found[0]


async def test_without_a_client_certificate_the_log_says_which_settings_to_set(
    sessions: SessionFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with deployed_broker(tmp_path / "broker") as deployed:
        target = endpoint(deployed, ca=deployed.cloud.ca, cert=None, key=None)
        await errors_while_running(sessions, target, caplog, "MPM_MQTT_CERT_FILE")


# paho 2.2 (_ssl_wrap_socket) does not close its SSLSocket when the handshake raises (the broker's
# certificate does not verify); the garbage collector does. Collected here, inside this test, so the
# warning cannot land on another test; nothing of ours leaks.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore:unclosed <ssl.SSLSocket:ResourceWarning")
async def test_a_wrong_broker_ca_and_a_missing_file_are_named(
    sessions: SessionFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = identity_files(CertificateAuthority.create(tmp_path / "other"), "mpm-cloud", tmp_path / "o")
    with deployed_broker(tmp_path / "broker") as deployed:
        wrong_ca = endpoint(deployed, ca=other.ca, cert=deployed.cloud.cert, key=deployed.cloud.key)
        await errors_while_running(sessions, wrong_ca, caplog, f"MPM_MQTT_CA_FILE={other.ca}")
        gc.collect()
        missing = endpoint(
            deployed, ca=tmp_path / "nowhere.crt", cert=deployed.cloud.cert, key=deployed.cloud.key
        )
        await errors_while_running(sessions, missing, caplog, "nowhere.crt")
