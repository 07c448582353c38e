"""Why the caps sit under the descriptor limit: a flood of idle connections against a server process
with RLIMIT_NOFILE 256. Capped (sized to the limit, as the agent does), the bound terminal is served;
uncapped (the control: what the agent did before), accept() runs out of descriptors and it is not."""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

FLOOD = 300  # more connections than the server process has descriptors


class ServerProcess:
    def __init__(self, mode: str) -> None:
        argv = [sys.executable, "-m", "tests.edge_agent.http.descriptor_server", mode]
        self.child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.child.stdout is not None
        self.port = int(self.child.stdout.readline())

    def stop(self) -> str:
        """Kill it; what it logged."""
        self.child.kill()
        _out, err = self.child.communicate(timeout=10)
        return err


@contextlib.contextmanager
def server_process(mode: str) -> Iterator[ServerProcess]:
    server = ServerProcess(mode)
    try:
        yield server
    finally:
        if server.child.poll() is None:
            server.stop()


@contextlib.contextmanager
def idle_flood(port: int) -> Iterator[None]:
    held: list[socket.socket] = []
    try:
        for i in range(FLOOD):
            sock = socket.socket()
            held.append(sock)
            sock.settimeout(5)
            sock.bind((f"127.0.3.{1 + i // 100}", 0))
            with contextlib.suppress(OSError):  # refused, or left in the backlog
                sock.connect(("127.0.0.1", port))
        yield
    finally:
        for sock in held:
            sock.close()


def terminal_served(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3, source_address=("127.0.0.1", 0))
    try:
        connection.request("GET", "/iclock/getrequest?SN=X")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@pytest.mark.parametrize(("mode", "served"), [("capped", True), ("uncapped", False)])
def test_a_bound_terminal_is_served_during_a_flood_only_when_the_caps_fit_the_descriptors(
    mode: str, served: bool
) -> None:
    with server_process(mode) as server:
        with idle_flood(server.port):
            assert terminal_served(server.port) is served
        log = server.stop()
    assert ("Too many open files" in log) is not served  # the cause, in the uncapped control
