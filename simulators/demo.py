"""``mpm-demo``: the whole system on one machine, from a punch to the ranking on an LED sign.

    ZK terminal simulator ──4370/TCP──▶ mpm-agent ──MQTT──▶ mpm-cloud (SQLite)
    Alpha sign simulator  ◀──pty────── mpm-agent ◀──retained display content──┘

Every part runs as its own process, started with the same commands an operator would use; the
broker is a real Mosquitto when ``MPM_MQTT_URL`` is set, else the embedded amqtt broker. Ctrl-C stops
everything. This module only starts processes: it imports neither ``cloud`` nor ``edge_agent``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulators.demo_manager import DemoManager
from simulators.state_file import read_state

PICTURE_LINE = re.compile(r"\[dots (.)\]")  # a picture call on the Alpha sign's face

AGENT_ID = "demo-agent"
SIGN_NAME = "lobby"
DEMO_USERS = [
    {"pin": "1", "name": "Alice"},
    {"pin": "2", "name": "Bob"},
    {"pin": "3", "name": "Carol"},
    {"pin": "4", "name": "Dave"},
    {"pin": "5", "name": "Erin"},
    {"pin": "6", "name": "张三"},
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.3):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Processes:
    """The demo's child processes, stopped in reverse order of start."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            child = subprocess.Popen(list(argv), env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append((name, child))
        return child

    def check_alive(self) -> None:
        for name, child in self.children:
            if child.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {child.returncode}; see {self.log_dir / (name + '.log')}"
                )

    def stop_all(self) -> None:
        for _, child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in reversed(self.children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def command(name: str) -> list[str]:
    """The console script next to this interpreter, so the demo runs inside its own venv."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [shutil.which(name) or name]


def agent_config(state_dir: Path, mqtt_url: str, zk_port: int) -> str:
    return f"""# written by mpm-demo
agent_id = "{AGENT_ID}"

[mqtt]
url = "{mqtt_url}"

[outbox]
path = "{state_dir / "agent-outbox.db"}"

[[devices]]
kind = "zkteco"
name = "zk-front"
host = "127.0.0.1"
port = {zk_port}
pull_interval_s = 30

[[devices]]
kind = "alpha_sign"
name = "{SIGN_NAME}"
port = "{state_dir / "alpha-tty"}"
columns = 20
rows = 6
"""


def start_everything(procs: Processes, state_dir: Path, punch_every: float) -> dict[str, Any]:
    env = dict(os.environ)
    deadline = time.monotonic() + 60
    mqtt_url = os.environ.get("MPM_MQTT_URL", "")
    if not mqtt_url:
        broker_port = free_port()
        procs.start(
            "broker", [sys.executable, "-m", "simulators.embedded_broker", "--port", str(broker_port)], env
        )
        if not wait_for_port(broker_port, deadline):
            raise RuntimeError("the embedded MQTT broker did not start")
        mqtt_url = f"mqtt://127.0.0.1:{broker_port}"
    cloud_env = env | {
        "MPM_DATABASE_URL": f"sqlite+aiosqlite:///{state_dir / 'cloud.db'}",
        "MPM_MQTT_URL": mqtt_url,
        "MPM_MQTT_SHARED_GROUP": "" if "MPM_MQTT_URL" not in os.environ else "ingest",
        # The demo is a development set-up: the public development key, announced by a warning.
        "MPM_ENVIRONMENT": os.environ.get("MPM_ENVIRONMENT", "development"),
    }
    seeded = subprocess.run(
        [*command("mpm-cloud"), "seed-demo", "--agent", AGENT_ID, "--sign", SIGN_NAME, "--json"],
        env=cloud_env,
        capture_output=True,
        text=True,
        check=True,
    )
    seed = json.loads(seeded.stdout)
    api_port = free_port()
    procs.start("cloud", [*command("mpm-cloud"), "serve", "--port", str(api_port)], cloud_env)
    users = state_dir / "zk-users.json"
    users.write_text(json.dumps(DEMO_USERS, ensure_ascii=False))
    zk_port = free_port()
    procs.start(
        "zk-terminal",
        [
            *command("mpm-sim"),
            "zk-terminal",
            "--host",
            "127.0.0.1",
            "--port",
            str(zk_port),
            "--users",
            str(users),
            "--state",
            str(state_dir / "zk-terminal.json"),
            "--punch-every",
            str(punch_every),
        ],
        env,
    )
    procs.start(
        "alpha-sign",
        [
            *command("mpm-sim"),
            "alpha-sign",
            "--pty",
            str(state_dir / "alpha-tty"),
            "--state",
            str(state_dir / "alpha-sign.json"),
            "--png",
            str(state_dir / "alpha-sign.png"),
        ],
        env,
    )
    for port in (api_port, zk_port):
        if not wait_for_port(port, deadline):
            procs.check_alive()
            raise RuntimeError(f"nothing is listening on port {port}")
    while not (state_dir / "alpha-tty").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    config = state_dir / "agent.toml"
    config.write_text(agent_config(state_dir, mqtt_url, zk_port))
    procs.start("agent", [*command("mpm-agent"), "run", "--config", str(config)], env)
    return {
        "dashboard": f"http://127.0.0.1:{api_port}/dashboard",
        "api": f"http://127.0.0.1:{api_port}/api/v1",
        "docs": f"http://127.0.0.1:{api_port}/docs",
        "token": seed.get("token", ""),
        "mqtt": mqtt_url,
    }


def showing(state_dir: Path) -> list[str]:
    try:
        state = read_state(state_dir / "alpha-sign.json")
    except (ValueError, OSError):
        return []
    lines = (state or {}).get("showing", [])
    pictures = (state or {}).get("pictures", {})
    return [with_picture_text(str(line), pictures) for line in lines] if isinstance(lines, list) else []


def with_picture_text(line: str, pictures: dict[str, Any]) -> str:
    """A picture-row marker ``[dots B]`` followed by the text the picture shows (its name and points)."""
    match = PICTURE_LINE.fullmatch(line)
    picture = pictures.get(match.group(1)) if match else None
    return f"{line} {picture['text']}" if isinstance(picture, dict) and picture.get("text") else line


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mpm-demo", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("demo-state"),
        help="where state files, PNGs, logs and databases go (default ./demo-state)",
    )
    parser.add_argument("--punch-every", type=float, default=4.0, help="seconds between simulated punches")
    parser.add_argument(
        "--award-every", type=float, default=15.0, help="seconds between a manager's API awards (0 = none)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 as soon as the sign shows a ranking (for tests and smoke checks)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="with --check: give up after this many seconds"
    )
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "logs").mkdir(exist_ok=True)
    procs = Processes(state_dir / "logs")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        urls = start_everything(procs, state_dir, args.punch_every)
        print(f"MPM Edge demo is running (state in {state_dir})")
        print(f"  dashboard:   {dashboard_link(urls)}")
        print(f"               (or {urls['dashboard']} and log in with the API token)")
        print(f"  admin API:   {urls['api']}   (OpenAPI docs: {urls['docs']})")
        print(f"  API token:   {urls['token']}")
        print(f"  MQTT broker: {urls['mqtt']}")
        print(f"  sign state:  {state_dir / 'alpha-sign.json'}")
        print(f"  sign PNG:    {state_dir / 'alpha-sign.png'}")
        print(f"  terminal:    {state_dir / 'zk-terminal.json'}")
        print(f"  logs:        {state_dir / 'logs'}/")
        print("Press Ctrl-C to stop.", flush=True)
        manager = DemoManager(urls["api"], urls["token"]) if args.award_every > 0 else None
        return watch(procs, state_dir, manager, args.award_every, check=args.check, timeout=args.timeout)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"mpm-demo: {exc}\n{detail}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()


def dashboard_link(urls: dict[str, Any]) -> str:
    """A display link that logs the browser in, or the bare address when the cloud would not issue one."""
    try:
        return DemoManager(urls["api"], urls["token"]).display_link()
    except (OSError, ValueError, KeyError) as exc:
        return f"{urls['dashboard']}   (no display link: {exc})"


def describe_line(line: str) -> str:
    """A sign line for the terminal; picture rows (Chinese names as SMALL DOTS) point at the PNG."""
    if line.startswith("[dots "):
        return f"{line}  (a picture row: drawn as dots, see alpha-sign.png)"
    return line


def watch(
    procs: Processes,
    state_dir: Path,
    manager: DemoManager | None,
    award_every: float,
    *,
    check: bool,
    timeout: float,
) -> int:
    """Print the sign's face whenever it changes; with ``check``, return once it shows a ranking."""
    shown: list[str] = []
    deadline = time.monotonic() + timeout
    next_award = time.monotonic() + award_every
    while True:
        procs.check_alive()
        if manager is not None and time.monotonic() >= next_award:
            print(manager.award_someone(), flush=True)
            next_award = time.monotonic() + award_every
        lines = showing(state_dir)
        if lines and lines != shown:
            shown = lines
            face = "\n".join(f"  │ {describe_line(line)}" for line in lines)
            print(f"sign shows:\n{face}", flush=True)
            if check and any(line[:1].isdigit() for line in lines):
                return 0
        if check and time.monotonic() > deadline:
            print("mpm-demo: the sign showed no ranking in time", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
