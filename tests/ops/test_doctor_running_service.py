"""`doctor` asks the running service about the broker instead of connecting as the box.

On a broker made by `mpm-cloud broker-config` the client id is forced to the certificate's name, so
doctor's own CONNECT would take the running service's session over. With the service running (a
real `mpm-agent run`), the broker line comes from the service's /readyz and no probe is made; control:
with the service stopped, the same doctor line is the probe's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import BIN
from tests.ops.test_doctor import doctor, true_time, write_config
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import wait_for

__all__ = ["true_time"]  # the fixture, imported for this module's tests


def broker_line(lines: list[str]) -> str:
    return next(line for line in lines if " broker: " in line)


def test_the_running_service_answers_for_the_broker(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, broker: Broker, true_time: str
) -> None:
    port = free_port()
    config = write_config(tmp_path, broker.url, extra=f'[observability]\nlisten = "127.0.0.1:{port}"\n')
    with (tmp_path / "agent.log").open("wb") as log:
        agent = subprocess.Popen(
            [str(BIN / "mpm-agent"), "run", "--config", str(config)], stdout=log, stderr=log
        )
    try:
        wait_for(lambda: connected(port), timeout=60, what="the agent's link up")
        _, lines = doctor(capsys, config, true_time)
        assert "the running service is connected" in broker_line(lines)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    _, lines = doctor(capsys, config, true_time)
    assert "accepted CONNECT" in broker_line(lines)


def connected(port: int) -> bool:
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
    except httpx.HTTPError:
        return False
    return body.get("link_connected") is True
