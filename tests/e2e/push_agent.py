"""A real ``mpm-agent run`` process serving ADMS terminals, with the descriptor limit of a stock box."""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

STOCK_NOFILE = 1024  # a Raspberry Pi OS shell's soft RLIMIT_NOFILE, which a plain `mpm-agent run` gets


def write_push_config(tmp_path: Path, serials: tuple[str, ...], **zk_push: object) -> tuple[Path, int, int]:
    """agent.toml with one zk_push listener; returns (path, push port, metrics port).

    The MQTT broker is unreachable on purpose: punches stay in the outbox, where the test counts them.
    """
    push_port, metrics_port = free_port(), free_port()
    lines = [
        'agent_id = "site-lan"', "status_interval_s = 1",
        "[mqtt]", f'url = "mqtt://127.0.0.1:{free_port()}"',
        "[outbox]", f'path = "{tmp_path / "outbox.db"}"',
        "[observability]", f'listen = "127.0.0.1:{metrics_port}"',
        "[[devices]]", 'kind = "zk_push"', 'name = "gate"', 'listen_host = "127.0.0.1"',
        f"listen_port = {push_port}", f"allowed_serials = {json.dumps(list(serials))}",
    ]  # fmt: skip
    lines += [f"{key} = {json.dumps(value)}" for key, value in zk_push.items()]
    path = tmp_path / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, push_port, metrics_port


def _stock_limits() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (STOCK_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@contextlib.contextmanager
def push_agent(config: Path, *, wait_port: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """``mpm-agent run --config`` with RLIMIT_NOFILE 1024; stopped with SIGTERM (then killed) on exit."""
    argv = [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(config)]
    with (config.parent / "agent.log").open("ab") as log:
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_stock_limits)
    try:
        if wait_port is not None:
            wait_for(
                lambda: accepts_tcp("127.0.0.1", wait_port) or child.poll() is not None,
                timeout=60,
                what="the agent's push port",
            )
            assert child.poll() is None, log_tail(config)
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def log_tail(config: Path, lines: int = 40) -> str:
    path = config.parent / "agent.log"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def agent_status(config: Path) -> dict[str, Any]:
    """``mpm-agent status --json`` as a separate process, the way an installer runs it ({} while the
    agent has not created its outbox yet: exit 69)."""
    done = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "status", "--config", str(config), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode == 69:
        return {}
    assert done.returncode == 0, done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def rss_kib(pid: int, field: str = "VmHWM") -> int:
    """Resident memory of ``pid`` in KiB from /proc (VmHWM: the peak so far; VmRSS: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)
