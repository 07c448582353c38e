"""sd_notify over a real AF_UNIX datagram socket, with the check process as a real subprocess."""

from __future__ import annotations

import os
import pty
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edge_agent import systemd_notify
from tests.support.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeSystemd:
    """A NOTIFY_SOCKET listener: the datagrams a real systemd would receive, in order."""

    sock: socket.socket
    address: str
    messages: list[str] = field(default_factory=list)

    def drain(self) -> list[str]:
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def has(self, text: str) -> bool:
        return any(text in message for message in self.drain())


@pytest.fixture(params=["path", "abstract"])
def fake_systemd(request: pytest.FixtureRequest) -> Iterator[FakeSystemd]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setblocking(False)
    with tempfile.TemporaryDirectory(prefix="mpm-n") as short_dir:  # sun_path is limited to 108 bytes
        if request.param == "path":
            address = os.path.join(short_dir, "notify")
            sock.bind(address)
        else:
            name = f"mpm-test-{uuid.uuid4().hex}"
            sock.bind("\0" + name)
            address = "@" + name
        yield FakeSystemd(sock=sock, address=address)
        sock.close()


@pytest.fixture
def serial_port() -> Iterator[str]:
    master, slave = pty.openpty()
    yield os.ttyname(slave)
    os.close(slave)
    os.close(master)


def write_config(tmp_path: Path, *, ports: list[str], extra: str = "") -> Path:
    database = tmp_path / "outbox.db"
    if not database.exists():
        with sqlite3.connect(database) as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, body BLOB)")
        connection.close()
    config = tmp_path / "agent.toml"
    port_list = ", ".join(f'"{port}"' for port in ports)
    config.write_text(f'database = "{database}"\nports = [{port_list}]\n{extra}')
    return config


StartStub = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_stub(fake_systemd: FakeSystemd) -> Iterator[StartStub]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(config: Path, *, watchdog_usec: int | None = None) -> subprocess.Popen[bytes]:
        env = {
            key: value for key, value in os.environ.items() if not key.startswith(("NOTIFY_", "WATCHDOG_"))
        }
        env["NOTIFY_SOCKET"] = fake_systemd.address
        if watchdog_usec is not None:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        command = [sys.executable, "-m", "tests.ops.notify_stub", str(config)]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_ready_is_sent_after_the_checks_pass(
    fake_systemd: FakeSystemd, start_stub: StartStub, tmp_path: Path, serial_port: str
) -> None:
    start_stub(write_config(tmp_path, ports=[serial_port]))
    wait_for(lambda: fake_systemd.has("READY=1"), what="READY=1")
    messages = fake_systemd.drain()
    ready_at = messages.index("READY=1")
    assert any(m.startswith("STATUS=ready: 3 start-up checks passed") for m in messages[:ready_at])


@pytest.mark.parametrize(
    ("case", "expected_exit", "expected_status"),
    [
        ("missing port", 69, "serial port /dev/mpm-test-no-such-port: does not exist"),
        ("unknown key", 78, "databse: unknown setting; did you mean database?"),
        ("corrupt database", 65, "cannot open: file is not a database"),
    ],
)
def test_no_ready_when_a_check_fails(
    fake_systemd: FakeSystemd,
    start_stub: StartStub,
    tmp_path: Path,
    serial_port: str,
    case: str,
    expected_exit: int,
    expected_status: str,
) -> None:
    ports = [serial_port, "/dev/mpm-test-no-such-port"] if case == "missing port" else [serial_port]
    config = write_config(tmp_path, ports=ports, extra='databse = "x"\n' if case == "unknown key" else "")
    if case == "corrupt database":
        (tmp_path / "outbox.db").write_bytes(b"this is not an SQLite database at all " * 100)
    process = start_stub(config)
    assert process.wait(timeout=30) == expected_exit
    messages = fake_systemd.drain()
    assert "READY=1" not in messages
    assert any(expected_status in m for m in messages if m.startswith("STATUS=start-up checks failed")), (
        messages
    )


def test_watchdog_pings_stop_when_the_work_loop_stalls(
    fake_systemd: FakeSystemd, start_stub: StartStub, tmp_path: Path, serial_port: str
) -> None:
    process = start_stub(write_config(tmp_path, ports=[serial_port]), watchdog_usec=200_000)
    # Control: while the loop reports progress, pings keep coming.
    wait_for(lambda: fake_systemd.drain().count("WATCHDOG=1") >= 5, what="5 watchdog pings")
    process.send_signal(signal.SIGUSR1)
    wait_for(lambda: fake_systemd.has("STATUS=stub: work loop stalled"), what="the stub to stall")

    def stalled_ticks() -> list[int]:
        return [i for i, m in enumerate(fake_systemd.drain()) if m.startswith("STATUS=watchdog: no progress")]

    wait_for(lambda: len(stalled_ticks()) >= 4, what="4 ticks without progress")
    after_first_miss = fake_systemd.drain()[stalled_ticks()[0] :]
    assert "WATCHDOG=1" not in after_first_miss


def test_every_call_is_a_noop_without_notify_socket() -> None:
    assert systemd_notify.ready(environ={}) is False
    assert systemd_notify.status("x", environ={"NOTIFY_SOCKET": ""}) is False


def test_watchdog_interval_comes_from_the_environment() -> None:
    assert systemd_notify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert systemd_notify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert systemd_notify.watchdog_interval({}) is None
    assert systemd_notify.Watchdog.from_environment({}).enabled is False
