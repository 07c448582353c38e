"""A sandbox where a guide's commands run as written, as root, without touching the host.

Theory of operation. One long-lived bash runs inside new mount and PID namespaces. Copies are bound
over the directories a guide writes to (/etc, /opt, /usr/local/bin, /var/lib, /var/log,
/run/mosquitto), so users,
units, configuration and state made by the guide exist only in the sandbox, and when the shell ends
every process it started ends with it (PID namespace). The network is the host's: services bind the
guide's real ports on loopback, and the guide's host names resolve to 127.0.0.1 through the
sandbox's /etc/hosts. PostgreSQL is the host's, reached over its Unix socket.

Stand-ins (tests/docs/standins, first on PATH) replace what a container has no daemon for:
``systemctl`` runs the units as systemd would, ``journalctl`` prints their output, ``apt``/``apt-get``
check the host's packages (and lay out the agent's package), ``sudo`` is root already. The only
rewrite of a guide's text: ``https://cloud.example.com`` becomes ``http://cloud.example.com:8000``
(the sandbox has no HTTPS reverse proxy in front of the API).

Blocks run in one shell under ``set -eo pipefail``: the first failing command ends the shell, and
``run`` raises with the block and everything it printed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.docs.guide import CommandBlock

PROJECT = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).with_name("standins")
VENV = Path(sys.executable).parent.parent
HOSTS = ("cloud.example.com", "mqtt.example.com")
REWRITES = {"https://cloud.example.com": "http://cloud.example.com:8000"}
BOUND = {
    "etc": "/etc",
    "opt": "/opt",
    "usr-local-bin": "/usr/local/bin",
    "var-lib": "/var/lib",
    "var-log": "/var/log",
    "run-mosquitto": "/run/mosquitto",
}
DONE = "@@sandbox-block-done@@"
# Debian's /etc/mosquitto/mosquitto.conf as the mosquitto package ships it (this host's may differ).
STOCK_MOSQUITTO_CONF = """\
pid_file /run/mosquitto/mosquitto.pid
persistence true
persistence_location /var/lib/mosquitto/
log_dest file /var/log/mosquitto/mosquitto.log
include_dir /etc/mosquitto/conf.d
"""


class BlockFailed(AssertionError):
    """A command of a guide failed: names the block and shows what the shell printed."""


class Sandbox:
    """The shell; ``run(block)`` feeds it one command block and returns what it printed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.bin = root / "bin"
        self._prepare()
        self._shell = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "bash",
                "--noprofile",
                "--norc",
                str(root / "enter.sh"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.home,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.transcript: list[str] = []

    def path(self, inside: str) -> Path:
        """Where a sandbox path (e.g. /etc/mpm-cloud/environment) lives on the host."""
        for name, mount in BOUND.items():
            if inside == mount or inside.startswith(mount + "/"):
                return self.root / name / inside[len(mount) :].lstrip("/")
        return Path(inside)

    def run(self, block: CommandBlock | str, timeout: float = 300) -> str:
        """Run one block (its text rewritten as the module says); the output, or BlockFailed."""
        text = block.text if isinstance(block, CommandBlock) else block
        where = block.where if isinstance(block, CommandBlock) else "command"
        for old, new in REWRITES.items():
            text = text.replace(old, new)
        script = self.root / "blocks" / f"{len(self.transcript):03d}.sh"
        script.write_text(text + "\n")
        assert self._shell.stdin is not None
        self._shell.stdin.write(f"source {script}\necho; echo {DONE}\n".encode())
        self._shell.stdin.flush()
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise BlockFailed(
                    f"{where}: no end within {timeout} s\n{text}\n---\n{''.join(output)}"
                ) from None
            if line is None:
                raise BlockFailed(
                    f"{where} failed (shell exited {self._shell.wait()}):\n{text}\n---\n{''.join(output)}"
                )
            if line.rstrip("\n") == DONE:
                break
            output.append(line)
        printed = "".join(output)[:-1]  # the newline put before the marker
        self.transcript.append(f"$ {where}\n{printed}")
        return printed

    def close(self) -> None:
        """Stop every service the guide started (SIGTERM first), then end the namespace."""
        if self._shell.poll() is None:
            assert self._shell.stdin is not None
            try:
                self._shell.stdin.write(
                    b'for p in /run/standin/*.pid; do [ -e "$p" ] && '
                    b'systemctl stop "$(basename "$p" .pid)"; done; exit 0\n'
                )
                self._shell.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self._shell.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._shell.kill()
                self._shell.wait()
        for pipe in (self._shell.stdin, self._shell.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()

    def _read(self) -> None:
        assert self._shell.stdout is not None
        for raw in self._shell.stdout:
            self._lines.put(raw.decode(errors="replace"))
        self._lines.put(None)

    def _prepare(self) -> None:
        for name in ("home", "bin", "blocks", "opt", "usr-local-bin", "var-lib", "var-log", "run-mosquitto"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", "/etc", str(self.root / "etc")], check=True)  # users, hosts, CA store
        mosquitto = self.root / "etc/mosquitto"
        shutil.rmtree(mosquitto, ignore_errors=True)
        (mosquitto / "conf.d").mkdir(parents=True)
        (mosquitto / "mosquitto.conf").write_text(STOCK_MOSQUITTO_CONF)
        with (self.root / "etc/hosts").open("a") as hosts:
            hosts.write(f"127.0.0.1 {' '.join(HOSTS)}\n")
        for tool in STANDINS.iterdir():
            if tool.is_file():
                shutil.copy(tool, self.bin / tool.name)
        for directory in ("mosquitto", "dpkg"):
            (self.root / "var-lib" / directory).mkdir(exist_ok=True)
        mounts = "\n".join(f"mount --bind {self.root / name} {target}" for name, target in BOUND.items())
        env = {
            "PATH": f"{self.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "STANDIN_PROJECT": str(PROJECT),
            "STANDIN_VENV": str(VENV),
            "STANDIN_BIN": str(self.bin),
            "STANDIN_RUN": "/run/standin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
        }
        exports = "\n".join(f"export {key}={value}" for key, value in env.items())
        setup = ["set -e", "mkdir -p /run/mosquitto", mounts, "mkdir -p /run/standin"]
        setup += ["chown mosquitto: /run/mosquitto", exports, f"cd {self.home}"]
        setup += ["exec bash --noprofile --norc -e -o pipefail -s"]
        (self.root / "enter.sh").write_text("\n".join(setup) + "\n")
        os.chmod(self.root / "enter.sh", 0o755)
