"""Third-party proof: pyzk 0.9 against our ZK terminal simulator (PROTOCOLS.md §2.2, §2.3).

The simulator runs in-process on its own thread (and once as a real ``mpm-sim`` subprocess); pyzk
talks to it over real loopback sockets, TCP and UDP, with and without a comm key, through the inline
(3 records) and the buffered 1503/1504 path (2,000 records).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from zk import ZK

from simulators.zk_terminal import TerminalThread, ZkTerminal
from tests.support.network import free_port
from tests.support.polling import wait_for


@pytest.fixture
def port() -> int:
    return free_port()


def _pyzk(port: int, *, password: int = 0, udp: bool = False) -> ZK:
    """A pyzk client; pyzk 0.9 makes a UDP socket in ``__init__`` and leaks it on connect, so close it."""
    zk = ZK("127.0.0.1", port=port, timeout=5, password=password, force_udp=udp, ommit_ping=True)
    zk._ZK__sock.close()
    return zk


def _punch_when_registered(sim: TerminalThread, done: threading.Event) -> None:
    wait_for(lambda: sim.registered_clients() > 0 or done.is_set(), timeout=15, what="REG_EVENT")
    if not done.is_set():
        sim.punch("2", state=1, verify=15)


def _live_events(conn: object, sim: TerminalThread) -> list[object]:
    """Run pyzk's live_capture until one event arrives; a helper thread punches once pyzk registered."""
    done = threading.Event()
    trigger = threading.Thread(target=_punch_when_registered, args=(sim, done))
    trigger.start()
    events: list[object] = []
    try:
        for event in conn.live_capture(new_timeout=2):  # type: ignore[attr-defined]
            if event is not None:
                events.append(event)
                conn.end_live_capture = True  # type: ignore[attr-defined]
            assert len(events) <= 1
    finally:
        done.set()
        trigger.join()
    return events


@pytest.mark.parametrize("records", [3, 2000])
@pytest.mark.parametrize("comm_key", [0, 12345])
@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_pyzk_full_session(port: int, transport: str, comm_key: int, records: int) -> None:
    terminal = ZkTerminal(port=port, comm_key=comm_key, records=records, serial_number="SIMPYZK0001")
    with TerminalThread(terminal) as sim:
        conn = _pyzk(port, password=comm_key, udp=transport == "udp").connect()
        assert conn.get_firmware_version() == "Ver 6.60 Apr 28 2017"
        assert conn.get_serialnumber() == "SIMPYZK0001"
        assert conn.get_platform() == "ZMM220_TFT"
        assert abs((conn.get_time() - terminal.model.now()).total_seconds()) <= 2
        assert conn.disable_device()
        users = conn.get_users()
        assert [(u.user_id, u.name) for u in users][:2] == [("1", "张三"), ("2", "李四")]
        attendance = conn.get_attendance()
        expected = [(r.user_id, r.time, r.verify, r.state) for r in terminal.model.log]
        assert [(a.user_id, a.timestamp, a.status, a.punch) for a in attendance] == expected
        assert len(attendance) == records
        assert conn.enable_device()
        events = _live_events(conn, sim)
        assert [(e.user_id, e.status, e.punch) for e in events] == [("2", 15, 1)]  # type: ignore[attr-defined]
        assert events[0].timestamp == terminal.model.log[-1].time  # type: ignore[attr-defined]
        assert conn.disconnect()
        assert terminal.bad_checksums == 0


def test_pyzk_wrong_comm_key_is_refused(port: int) -> None:
    with TerminalThread(ZkTerminal(port=port, comm_key=12345)):
        zk = _pyzk(port, password=54321)
        with pytest.raises(Exception, match="Unauthenticated"):
            zk.connect()
        zk._ZK__sock.close()


def test_pyzk_writes_users_time_and_clears_log(port: int) -> None:
    import datetime as dt

    terminal = ZkTerminal(port=port, records=5)
    with TerminalThread(terminal):
        conn = _pyzk(port).connect()
        conn.set_user(uid=42, name="孙七", privilege=0, password="9", user_id="4242", card=777)
        conn.delete_user(uid=3)
        names = {u.user_id: u.name for u in conn.get_users()}
        assert names["4242"] == "孙七"
        assert "3" not in names
        when = dt.datetime(2024, 5, 6, 8, 59, 0)  # noqa: DTZ001 - device local time
        conn.set_time(when)
        assert abs((conn.get_time() - when).total_seconds()) <= 2
        conn.clear_attendance()
        assert conn.get_attendance() == []
        conn.disconnect()


@pytest.fixture
def cli_terminal(tmp_path: Path, port: int) -> Iterator[tuple[int, Path]]:
    state = tmp_path / "zk-state.json"
    command = [sys.executable, "-m", "simulators.cli", "zk-terminal", "--port", str(port), "--records", "30",
               "--state", str(state), "--punch-every", "0.3", "--serial-number", "SIMCLI0001"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: state.exists() or process.poll() is not None, timeout=20, what="state file")
        assert process.poll() is None
        yield port, state
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_pyzk_against_the_mpm_sim_subprocess(cli_terminal: tuple[int, Path]) -> None:
    port, state = cli_terminal
    conn = _pyzk(port).connect()
    assert conn.get_serialnumber() == "SIMCLI0001"
    assert len(conn.get_attendance()) >= 30
    conn.disconnect()
    grown = wait_for(lambda: _log_size(state) > 30 and _log_size(state), timeout=10, what="punches")
    assert grown > 30


def _log_size(state: Path) -> int:
    return int(json.loads(state.read_text(encoding="utf-8"))["log_size"])


def test_pyzk_reads_gbk_names_from_a_gbk_terminal(port: int) -> None:
    with TerminalThread(ZkTerminal(port=port, encoding="gbk")):
        zk = ZK("127.0.0.1", port=port, timeout=5, ommit_ping=True, encoding="gbk")
        zk._ZK__sock.close()  # see _pyzk
        conn = zk.connect()
        assert [u.name for u in conn.get_users()][:2] == ["张三", "李四"]
        conn.disconnect()
