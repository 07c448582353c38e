"""The cloud refuses to ingest from a broker that admits anonymous clients (outside development)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cloud.deploy.anonymous_probe import open_broker_refusal, probe_anonymous
from cloud.settings import CloudSettings, MqttEndpoint
from tests.cloud.deploy.support import deployed_broker
from tests.support.broker import Broker
from tests.support.network import free_port

PRODUCTION = {"MPM_ENVIRONMENT": "production", "MPM_ALLOW_DEV_KEY": "true"}


def endpoint(port: int, *, tls: bool = False, ca: Path | None = None) -> MqttEndpoint:
    return MqttEndpoint(host="127.0.0.1", port=port, tls=tls, username=None, password=None, ca_file=ca)


async def test_the_probe_tells_an_open_broker_from_a_closed_one(broker: Broker, tmp_path: Path) -> None:
    assert (await probe_anonymous(endpoint(broker.port))).admits_anonymous is True
    with deployed_broker(tmp_path) as deployed:
        closed = await probe_anonymous(endpoint(deployed.port, tls=True, ca=deployed.cloud.ca))
    assert closed.admits_anonymous is False, closed.detail
    nobody = await probe_anonymous(endpoint(free_port()), timeout=2)
    assert nobody.admits_anonymous is None


def test_serve_exits_78_against_an_open_broker_in_production(broker: Broker, tmp_path: Path) -> None:
    environ = (
        os.environ
        | PRODUCTION
        | {
            "MPM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cloud.db'}",
            "MPM_MQTT_URL": broker.url,
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "cloud.cli", "serve", "--port", str(free_port())],
        env=environ, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 78, result.stderr
    assert "admits anonymous clients" in result.stderr


def test_development_and_a_closed_broker_are_not_refused(broker: Broker, tmp_path: Path) -> None:
    assert open_broker_refusal(CloudSettings(mqtt_url=broker.url, environment="development")) is None
    with deployed_broker(tmp_path) as deployed:
        settings = CloudSettings(
            mqtt_url=f"mqtts://127.0.0.1:{deployed.port}",
            mqtt_ca_file=deployed.cloud.ca,
            mqtt_cert_file=deployed.cloud.cert,
            mqtt_key_file=deployed.cloud.key,
            environment="production",
            allow_dev_key=True,
        )
        assert open_broker_refusal(settings) is None
    # control: the same production settings against the open broker are refused
    assert open_broker_refusal(
        CloudSettings(mqtt_url=broker.url, environment="production", allow_dev_key=True)
    )
