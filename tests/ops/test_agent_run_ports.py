"""``mpm-agent run`` keeps docs/INSTALL.md's promise: a configured serial port that is missing, or not
an absolute device path, stops the start with exit 69 naming the port and its devices (real processes,
real pseudo-terminals)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.ops.startup_checks import check_serial_port
from tests.support.polling import wait_for

MISSING = "/dev/mpm-test-no-such-port"


def write_config(tmp_path: Path, port: str) -> Path:
    lines = ['agent_id = "site-ports"', "[mqtt]", 'url = "mqtt://127.0.0.1:9"', "[outbox]"]
    lines += [f'path = "{tmp_path / "outbox.db"}"']
    lines += ["[[devices]]", 'kind = "alpha_sign"', 'name = "hall-sign"', f'port = "{port}"']
    lines += ["[[devices]]", 'kind = "modbus_led"', 'name = "score-1"', f'port = "{port}"', "unit = 2"]
    path = tmp_path / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_agent(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def pty_port() -> Iterator[str]:
    controller, device = os.openpty()
    try:
        yield os.ttyname(device)
    finally:
        os.close(device)
        os.close(controller)


def test_a_missing_port_exits_69_naming_the_port_and_its_devices(tmp_path: Path) -> None:
    result = run_agent(write_config(tmp_path, MISSING))
    assert result.returncode == 69, result.stderr
    assert (
        f"serial port {MISSING}: does not exist (adapter unplugged? see `mpm-agent ports`) "
        "(configured for hall-sign, score-1)"
    ) in result.stderr


def test_a_port_without_dev_is_checked_too(tmp_path: Path) -> None:
    result = run_agent(write_config(tmp_path, "ttyUSB0"))
    assert result.returncode == 69, result.stderr
    assert "serial port ttyUSB0: not an absolute device path; write /dev/ttyUSB0" in result.stderr


@pytest.mark.timeout(60)
def test_control_an_existing_port_lets_the_agent_run(tmp_path: Path, pty_port: str) -> None:
    config = write_config(tmp_path, pty_port)
    log = (tmp_path / "agent.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(config)], stdout=log, stderr=log
    )
    try:
        wait_for(lambda: (tmp_path / "outbox.db").exists(), timeout=30, what="the agent's outbox")
        assert process.poll() is None, (tmp_path / "agent.log").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_relative_path_fails_even_when_it_exists_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ttyUSB0").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    found = check_serial_port("ttyUSB0")
    assert not found.ok
    assert found.exit_code == 69
    assert found.detail.startswith("not an absolute device path")


def test_mpm_agent_ports_flags_a_relative_path_too(tmp_path: Path) -> None:
    config = write_config(tmp_path, "ttyUSB0")
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "ports", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "not an absolute device path; write /dev/ttyUSB0" in result.stdout + result.stderr
