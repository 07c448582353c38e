"""sd_notify from the REAL agent: ``mpm-agent run`` as a subprocess, a fake NOTIFY_SOCKET, a real broker.

READY=1 comes only after the start-up checks passed (a bad configuration: no READY, exit 78); the
watchdog pings while the status loop turns; a real stall of that loop stops the pings; they resume
when it is released.

How the loop is stalled, and why this way: the status loop's sign of progress is the outbox stats read
(``StatusReporter.run`` calls ``on_progress`` after ``Outbox.stats()``). The outbox is in WAL mode, where
``BEGIN EXCLUSIVE`` from another connection does NOT block readers (the control test below shows the
pings going on under it). What does block a WAL reader is another process holding the WAL-index read
locks: bytes 123..127 of the ``-shm`` file (WAL_READ_LOCK(0..4), sqlite.org/walformat.html §2.3.1),
the locks every read transaction must take. The test takes them with ``fcntl``, as a stuck
checkpointer or backup would, so the agent's stats read really waits inside SQLite while its event loop
(and the watchdog timer) keep running. SQLite gives up after about 10 s (``locking protocol``), so the
lock is held for a few seconds only.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.ops.test_notify import FakeSystemd
from tests.support.broker import Broker
from tests.support.polling import wait_for

MPM_AGENT = str(Path(sys.executable).with_name("mpm-agent"))  # the console script pip installed
WATCHDOG_USEC = 2_000_000  # pings every 1 s while the work loop progresses
WAL_READ_LOCKS = (123, 5)  # (offset, length) in the -shm file: WAL_READ_LOCK(0) .. WAL_READ_LOCK(4)
NO_PROGRESS = "STATUS=watchdog: no progress"


@pytest.fixture
def fake_systemd() -> Iterator[FakeSystemd]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setblocking(False)
    with tempfile.TemporaryDirectory(prefix="mpm-n") as short_dir:  # sun_path is limited to 108 bytes
        address = os.path.join(short_dir, "notify")
        sock.bind(address)
        yield FakeSystemd(sock=sock, address=address)
        sock.close()


def write_config(tmp_path: Path, broker: Broker, extra: str = "") -> Path:
    config = tmp_path / "agent.toml"
    config.write_text(
        f'agent_id = "site-notify"\nstatus_interval_s = 0.5\n{extra}'
        f'[mqtt]\nurl = "{broker.url}"\n[outbox]\npath = "{tmp_path / "outbox.db"}"\n'
        "[observability]\nenabled = false\n"
    )
    return config


Start = Callable[[Path], subprocess.Popen[bytes]]


@pytest.fixture
def start_agent(fake_systemd: FakeSystemd, tmp_path: Path) -> Iterator[Start]:
    processes: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "agent.log").open("wb")

    def start(config: Path) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        env |= {"NOTIFY_SOCKET": fake_systemd.address, "WATCHDOG_USEC": str(WATCHDOG_USEC)}
        command = [MPM_AGENT, "run", "--config", str(config)]
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


def pings_after(fake: FakeSystemd, index: int) -> int:
    return fake.drain()[index:].count("WATCHDOG=1")


def running_with_pings(fake: FakeSystemd, start: Start, config: Path) -> subprocess.Popen[bytes]:
    agent = start(config)
    wait_for(lambda: fake.has("READY=1") or agent.poll() is not None, timeout=30, what="READY=1")
    assert agent.poll() is None
    ready_at = fake.drain().index("READY=1")
    wait_for(lambda: pings_after(fake, ready_at) >= 2, timeout=15, what="two watchdog pings")
    return agent


@contextmanager
def wal_readers_blocked(database: Path) -> Iterator[None]:
    """Hold every WAL read lock of ``database`` from this process (the agent is another process)."""
    fd = os.open(f"{database}-shm", os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, WAL_READ_LOCKS[1], WAL_READ_LOCKS[0], os.SEEK_SET)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops its locks


def test_ready_only_after_the_start_up_checks(
    fake_systemd: FakeSystemd, start_agent: Start, tmp_path: Path, broker: Broker
) -> None:
    running_with_pings(fake_systemd, start_agent, write_config(tmp_path, broker))
    messages = fake_systemd.drain()
    ready_at = messages.index("READY=1")
    assert any(m.startswith("STATUS=ready: 2 start-up checks passed") for m in messages[:ready_at])
    assert "WATCHDOG=1" not in messages[:ready_at]


def test_bad_config_never_reports_ready(
    fake_systemd: FakeSystemd, start_agent: Start, tmp_path: Path, broker: Broker
) -> None:
    agent = start_agent(write_config(tmp_path, broker, extra="status_intervall_s = 1\n"))
    assert agent.wait(timeout=30) == 78
    messages = fake_systemd.drain()
    assert "READY=1" not in messages
    assert "WATCHDOG=1" not in messages


def test_pings_stop_while_the_stats_read_is_stalled_and_resume_after(
    fake_systemd: FakeSystemd, start_agent: Start, tmp_path: Path, broker: Broker
) -> None:
    agent = running_with_pings(fake_systemd, start_agent, write_config(tmp_path, broker))
    locked_at = len(fake_systemd.drain())
    with wal_readers_blocked(tmp_path / "outbox.db"):

        def misses() -> list[int]:
            messages = fake_systemd.drain()
            return [i for i in range(locked_at, len(messages)) if messages[i].startswith(NO_PROGRESS)]

        wait_for(lambda: len(misses()) >= 2, timeout=8, what="two watchdog ticks without progress")
        first_miss = misses()[0]
        assert pings_after(fake_systemd, first_miss) == 0
        released_at = len(fake_systemd.drain())
    wait_for(lambda: pings_after(fake_systemd, released_at) >= 1, timeout=8, what="pings to resume")
    assert agent.poll() is None


def test_control_begin_exclusive_does_not_stall_a_wal_reader(
    fake_systemd: FakeSystemd, start_agent: Start, tmp_path: Path, broker: Broker
) -> None:
    running_with_pings(fake_systemd, start_agent, write_config(tmp_path, broker))
    with closing(sqlite3.connect(tmp_path / "outbox.db", isolation_level=None, timeout=5)) as connection:
        connection.execute("BEGIN EXCLUSIVE")
        locked_at = len(fake_systemd.drain())
        wait_for(lambda: pings_after(fake_systemd, locked_at) >= 2, timeout=8, what="pings under the lock")
        connection.execute("ROLLBACK")
    assert not any(m.startswith(NO_PROGRESS) for m in fake_systemd.drain()[locked_at:])
