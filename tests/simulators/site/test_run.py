"""A real small site (zk-terminal + isapi-face + alpha-sign) run as ``mpm-sim site`` in a subprocess."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from simulators.state_file import read_state
from tests.simulators.site.agent_models import validated_inventory
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

SMALL_SITE = """
[[user]]
pin = "1001"
name = "张伟"

[[device]]
kind = "zk-terminal"
name = "door"
port = {door_port}

[[device]]
kind = "isapi-face"
name = "face"
port = 0
password = "test-password"

[[device]]
kind = "alpha-sign"
name = "lobby"
pty = "lobby-tty"
"""


@dataclasses.dataclass
class RunningSite:
    process: subprocess.Popen[bytes]
    state_dir: Path
    stdout: Path
    stderr: Path

    def site(self) -> dict[str, Any]:
        return read_state(self.state_dir / "site.json") or {}

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def pids(self) -> list[int]:
        return [entry["pid"] for entry in self.site()["devices"].values()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def running_site(tmp_path: Path, door_port: int = 0) -> Iterator[RunningSite]:
    """``mpm-sim site`` on SMALL_SITE; stopped (and every child it started checked) afterwards."""
    config = tmp_path / "site.toml"
    config.write_text(SMALL_SITE.format(door_port=door_port), encoding="utf-8")
    site = RunningSite(
        process=_start(config, tmp_path),
        state_dir=tmp_path / "state",
        stdout=tmp_path / "stdout.txt",
        stderr=tmp_path / "stderr.txt",
    )
    try:
        yield site
    finally:
        children = site.pids() if site.site() else []
        if site.process.poll() is None:
            site.process.kill()  # only reached when a test failed: the children get SIGTERM (pdeathsig)
            site.process.wait()
        for pid in filter(alive, children):
            os.kill(pid, signal.SIGKILL)


def _start(config: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "simulators.cli", "site", "--config", str(config)]
    command += ["--state-dir", str(tmp_path / "state"), "--json"]
    with (tmp_path / "stdout.txt").open("wb") as out, (tmp_path / "stderr.txt").open("wb") as err:
        return subprocess.Popen(command, stdout=out, stderr=err)


def wait_all_up(site: RunningSite) -> dict[str, Any]:
    """site.json once the runner wrote it (it exists only when every simulator is up)."""
    wait_for(lambda: bool(site.site()) or site.process.poll() is not None, timeout=60, what="all up")
    description = site.site()
    assert description, f"site exited with {site.process.returncode}:\n{site.errors()}"
    return description


def test_a_small_site_comes_up_and_publishes_where_everything_is(tmp_path: Path) -> None:
    with running_site(tmp_path) as site:
        description = wait_all_up(site)
        assert "all up: 3 simulators" in site.errors()
        devices = description["devices"]
        assert {name: entry["kind"] for name, entry in devices.items()} == {
            "door": "zk-terminal",
            "face": "isapi-face",
            "lobby": "alpha-sign",
        }
        for name in ("door", "face"):
            assert devices[name]["port"] > 0
            assert accepts_tcp(devices[name]["host"], devices[name]["port"])
        link = Path(devices["lobby"]["pty"])
        assert link == site.state_dir / "lobby-tty"
        assert os.readlink(link).startswith("/dev/pts/")
        fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
        try:
            assert os.isatty(fd)
        finally:
            os.close(fd)
        assert Path(devices["lobby"]["png"]) == site.state_dir / "lobby.png"
        for name, entry in devices.items():
            assert Path(entry["state"]) == site.state_dir / f"{name}.json"
            assert Path(entry["log"]).is_file()
            assert entry["running"] is True
        printed = wait_for(lambda: site.stdout.read_text(encoding="utf-8").strip(), what="--json output")
        assert json.loads(printed)["devices"] == devices


def test_the_agent_inventory_points_at_the_running_simulators(tmp_path: Path) -> None:
    with running_site(tmp_path) as site:
        devices = wait_all_up(site)["devices"]
        inventory = validated_inventory(site.state_dir / "agent-devices.toml")
        assert sorted(inventory) == ["door", "face", "lobby"]
        door, face, lobby = inventory["door"], inventory["face"], inventory["lobby"]
        assert isinstance(door, ZkTerminalConfig)
        assert isinstance(face, IsapiFaceConfig)
        assert isinstance(lobby, AlphaSignConfig)
        assert (door.host, door.port) == ("127.0.0.1", devices["door"]["port"])
        assert face.base_url == f"http://127.0.0.1:{devices['face']['port']}"
        assert lobby.port == devices["lobby"]["pty"]


def test_sigterm_stops_every_child(tmp_path: Path) -> None:
    with running_site(tmp_path) as site:
        wait_all_up(site)
        pids = site.pids()
        assert all(map(alive, pids))  # control: the check below can see a live child
        site.process.send_signal(signal.SIGTERM)
        assert site.process.wait(timeout=30) == 0
        assert not [pid for pid in pids if alive(pid)]
        assert not any(entry["running"] for entry in site.site()["devices"].values())
        assert not (site.state_dir / "lobby-tty").exists()


def test_sigint_stops_every_child_too(tmp_path: Path) -> None:
    with running_site(tmp_path) as site:
        wait_all_up(site)
        pids = site.pids()
        site.process.send_signal(signal.SIGINT)
        assert site.process.wait(timeout=30) == 0
        assert not [pid for pid in pids if alive(pid)]


def test_a_child_that_dies_is_reported_with_its_log_tail(tmp_path: Path) -> None:
    with running_site(tmp_path) as site:
        devices = wait_all_up(site)["devices"]
        assert "exited with code" not in site.errors()  # control
        os.kill(devices["face"]["pid"], signal.SIGKILL)
        wait_for(lambda: "exited with code" in site.errors(), what="death report")
        report = site.errors()
        assert 'device "face" (isapi-face) exited with code -9' in report
        assert "isapi-face listening on http://127.0.0.1:" in report  # the tail of face.log
        wait_for(lambda: site.site()["devices"]["face"]["running"] is False, what="site.json update")
        assert site.process.poll() is None  # the rest of the site keeps running
        assert accepts_tcp("127.0.0.1", devices["door"]["port"])


@pytest.fixture
def held_tcp_port() -> Iterator[int]:
    """A loopback port on which the test itself listens."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def held_udp_port() -> Iterator[int]:
    """A loopback port free for TCP but bound for UDP by the test."""
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", port))
        yield port


def test_a_port_held_by_another_process_fails_the_start_by_name(tmp_path: Path, held_tcp_port: int) -> None:
    # Someone else's listener would pass "the port accepts": the runner refuses to start instead.
    with running_site(tmp_path, door_port=held_tcp_port) as site:
        assert site.process.wait(timeout=60) == 1
        expected = f'device "door" (zk-terminal): port: 127.0.0.1:{held_tcp_port} is already in use'
        assert expected in site.errors()
        assert not (site.state_dir / "site.json").exists()
        assert not (site.state_dir / "logs" / "door.log").exists()  # nothing was started


def test_a_simulator_that_dies_at_start_fails_the_site_with_its_log(
    tmp_path: Path, held_udp_port: int
) -> None:
    with running_site(tmp_path, door_port=held_udp_port) as site:
        assert site.process.wait(timeout=60) == 1
        errors = site.errors()
        assert 'site did not start: device "door" (zk-terminal) exited with code 1' in errors
        assert "address already in use" in errors.lower()  # from the tail of door.log
        assert "all up" not in errors
        assert not (site.state_dir / "site.json").exists()
        started = [int(pid) for pid in re.findall(r"started .* \(pid (\d+)\)", errors)]
        assert len(started) == 3
        assert not [pid for pid in started if alive(pid)]  # the others were stopped
