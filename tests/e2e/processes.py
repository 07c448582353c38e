"""Start the system's parts as real processes, the way an operator would, and stop them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

BIN = Path(sys.executable).parent


class ProcessGroup:
    """Children started with logs in ``log_dir``; ``stop_all`` terminates them in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            child = subprocess.Popen(
                list(argv), env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT
            )
        self.children[name] = child
        return child

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self) -> None:
        for child in reversed(list(self.children.values())):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@contextmanager
def process_group(log_dir: Path) -> Iterator[ProcessGroup]:
    log_dir.mkdir(parents=True, exist_ok=True)
    group = ProcessGroup(log_dir)
    try:
        yield group
    finally:
        group.stop_all()


def cloud_env(db_path: Path, mqtt_url: str) -> dict[str, str]:
    return os.environ | {
        "MPM_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "MPM_MQTT_URL": mqtt_url,
        "MPM_MQTT_SHARED_GROUP": "ingest",
    }


def seed_demo(env: dict[str, str], agent_id: str, sign: str) -> dict[str, object]:
    """``mpm-cloud seed-demo``: the demo organisation, its agent, members PIN 1-6 and rules."""
    done = subprocess.run(
        [str(BIN / "mpm-cloud"), "seed-demo", "--agent", agent_id, "--sign", sign, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seeded: dict[str, object] = json.loads(done.stdout)
    return seeded


def start_cloud(group: ProcessGroup, env: dict[str, str]) -> str:
    """``mpm-cloud serve`` on a free port; returns the API base URL once it accepts connections."""
    port = free_port()
    child = group.start("cloud", [str(BIN / "mpm-cloud"), "serve", "--port", str(port)], env)
    wait_for(lambda: accepts_tcp("127.0.0.1", port) or child.poll() is not None, timeout=60, what="cloud API")
    assert child.poll() is None, group.log_tail("cloud")
    return f"http://127.0.0.1:{port}/api/v1"


def start_alpha_sign(group: ProcessGroup, state_dir: Path, name: str) -> tuple[Path, Path]:
    """``mpm-sim alpha-sign --pty``; returns (pty link, state file) once the link exists."""
    link, state = state_dir / f"{name}-tty", state_dir / f"{name}.json"
    png = state_dir / f"{name}.png"
    argv = [str(BIN / "mpm-sim"), "alpha-sign", "--pty", str(link), "--state", str(state), "--png", str(png)]
    child = group.start(name, argv)
    wait_for(lambda: link.exists() or child.poll() is not None, timeout=30, what="alpha sign pty")
    assert child.poll() is None, group.log_tail(name)
    return link, state


def start_site(group: ProcessGroup, config: Path, state_dir: Path) -> dict[str, object]:
    """``mpm-sim site --json``; returns its ``site.json`` once every simulator serves."""
    site_json = state_dir / "site.json"
    argv = [str(BIN / "mpm-sim"), "site", "--config", str(config), "--state-dir", str(state_dir), "--json"]
    child = group.start("site", argv)
    wait_for(lambda: site_json.exists() or child.poll() is not None, timeout=60, what="the site")
    assert child.poll() is None, group.log_tail("site")
    description: dict[str, object] = json.loads(site_json.read_text(encoding="utf-8"))
    return description


def command_line(pid: int) -> list[str]:
    """The argv a running process was started with (Linux ``/proc``)."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie awaiting its parent counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return status.rpartition(")")[2].split()[0] == "Z"
