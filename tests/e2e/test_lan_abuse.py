"""The agent's ADMS port under a LAN attack, against a real ``mpm-agent run`` process (issue 9 Done-when).

12 connections from one host, 150 half-sent 2 MB bodies, then 1,500 idle connections, from 301 other
hosts (loopback addresses 127.0.2.x, 127.0.3.x and 127.0.4.1 stand for them), against a stock
descriptor limit of 1,024. The agent stays up, its peak resident memory stays within 80 MB, and the
honest terminal (bound to its address, which bypasses the global cap) gets its punch into the outbox
during the attack.
Control, in the same run: a terminal nobody bound yet is refused at accept while the strangers hold
the cap (the counters show the cap doing it), and served once the attack stops.
"""

from __future__ import annotations

import contextlib
import http.client
import resource
import socket
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from simulators.zk_push import PushTerminal
from tests.e2e.push_agent import agent_status, log_tail, push_agent, rss_kib, write_push_config
from tests.support.polling import wait_for

HONEST, LATE = "SIMLAN01", "SIMLAN02"
IDLE_CONNECTIONS, IDLE_PER_HOST = 1_500, 10
HALF_SENT_BODIES = 150
DECLARED = 2 * 1024 * 1024
RSS_LIMIT_KIB = 80 * 1024
CAP = 128  # the listener's default max_connections (fits 1,024 descriptors)
LATE_HOST = "127.0.0.9"
GREEDY_HOST, GREEDY_CONNECTIONS = "127.0.4.1", 12  # one host past its cap of 8, first, while there is room
LATE_PUNCH = b"2001\t2024-01-02 08:30:00\t0\t15\t0\t0\t0\n"


def _raise_own_descriptor_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def _connect(port: int, source: str) -> socket.socket | None:
    sock = socket.socket()
    try:
        sock.settimeout(5)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


def _half_sent_body(port: int, source: str) -> socket.socket | None:
    """A POST declaring 2 MB that sends half of it and stops."""
    sock = _connect(port, source)
    if sock is None:
        return None
    head = f"POST /iclock/cdata?SN={HONEST}&table=ATTLOG&Stamp=1 HTTP/1.1\r\nHost: a\r\n"
    head += f"Content-Length: {DECLARED}\r\n\r\n"
    with contextlib.suppress(OSError):  # refused at accept, or 503 once the byte budget is spent
        sock.sendall(head.encode() + b"1" * (DECLARED // 2))
    return sock


@contextlib.contextmanager
def attack(port: int) -> Iterator[list[socket.socket]]:
    """Hold the attackers' sockets open until the block ends."""
    held: list[socket.socket] = []
    try:
        held += [s for s in (_connect(port, GREEDY_HOST) for _ in range(GREEDY_CONNECTIONS)) if s]
        with ThreadPoolExecutor(max_workers=32) as pool:
            bodies = [f"127.0.2.{1 + i}" for i in range(HALF_SENT_BODIES)]
            held += [s for s in pool.map(lambda a: _half_sent_body(port, a), bodies) if s]
            idle = [f"127.0.3.{1 + i // IDLE_PER_HOST}" for i in range(IDLE_CONNECTIONS)]
            held += [s for s in pool.map(lambda a: _connect(port, a), idle) if s]
        yield held
    finally:
        for sock in held:
            sock.close()


def _lan_counters(config: Path) -> dict[str, int]:
    counters: dict[str, int] = agent_status(config).get("runtime", {}).get("lan", {}).get("gate", {})
    return counters


def _open_connections(metrics_port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
        text: str = reply.read().decode()
    line = next((ln for ln in text.splitlines() if ln.startswith("mpm_lan_connections_open{")), "x -1")
    return int(float(line.rsplit(" ", 1)[1]))


def _refused_enough(config: Path) -> dict[str, int] | None:
    counters = _lan_counters(config)
    refused = counters.get("refused_global", 0) + counters.get("refused_per_address", 0)
    return counters if refused >= IDLE_CONNECTIONS - 2 * CAP else None


def _post_punch(port: int, sn: str, source: str) -> int | None:
    """One ATTLOG upload for ``sn`` from ``source`` (a terminal on another host); None: refused."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        connection.request("POST", f"/iclock/cdata?SN={sn}&table=ATTLOG&Stamp=1", body=LATE_PUNCH)
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return response.status


def _sync(terminal: PushTerminal) -> bool:
    try:
        terminal.sync_once()
    except (OSError, http.client.HTTPException):
        return False
    return terminal.memory.unsent() == []


def test_idle_and_half_sent_floods_leave_the_agent_up_small_and_serving(tmp_path: Path) -> None:
    _raise_own_descriptor_limit(IDLE_CONNECTIONS + HALF_SENT_BODIES + 512)
    # Deadlines longer than the test, so that the strangers hold their slots while the terminals try.
    config, push_port, metrics_port = write_push_config(
        tmp_path, (HONEST, LATE), head_deadline_s=120, body_deadline_s=120
    )
    url = f"http://127.0.0.1:{push_port}"
    with push_agent(config, wait_port=push_port) as agent:
        honest = PushTerminal(url, HONEST, timeout_s=5)
        assert _sync(honest)  # first seen from 127.0.0.1: bound there
        with attack(push_port):
            wait_for(
                lambda: _open_connections(metrics_port) >= CAP, timeout=60, what="the cap full of strangers"
            )
            honest.punch("1001")
            assert _sync(honest), log_tail(config)  # during the attack
            # control: a terminal on another host, not bound yet, is a stranger: refused at accept
            assert _post_punch(push_port, LATE, LATE_HOST) is None
            # the status file is written periodically: wait until it has caught up with the attack
            counters = wait_for(lambda: _refused_enough(config), timeout=30, what="refusals in the status")
            assert agent.poll() is None, log_tail(config)
            peak_kib = rss_kib(agent.pid, "VmHWM")
        assert peak_kib <= RSS_LIMIT_KIB, f"peak RSS {peak_kib} KiB"
        # Slots freed by bodies refused with 503 went to idle strangers; the rest were refused at accept.
        assert counters["refused_global"] + counters["refused_per_address"] >= IDLE_CONNECTIONS - 2 * CAP
        assert counters["refused_per_address"] >= GREEDY_CONNECTIONS - 8
        assert counters["budget_exhausted"] >= 1
        assert counters["peak"] <= CAP + 8  # the strangers' cap, plus the honest terminal's own
        wait_for(
            lambda: _post_punch(push_port, LATE, LATE_HOST) == 200,
            timeout=60,
            what="the late terminal served after the attack",
        )
        assert agent.poll() is None, log_tail(config)
        assert agent_status(config)["backlog_rows"] == 2  # 1001 and 2001, nothing from the attack
