"""Start ``mpm-sim modbus-sign`` (and socat pty pairs) for a test, and always stop them."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simulators.state_file import read_state
from tests.support.network import free_port
from tests.support.polling import wait_for


@dataclasses.dataclass
class RunningSign:
    state_path: Path
    png_path: Path
    faults_path: Path
    process: subprocess.Popen[bytes]
    port: int | None = None  # TCP
    link: Path | None = None  # RTU path a client opens

    def state(self) -> dict[str, Any]:
        return read_state(self.state_path) or {}

    def showing(self) -> list[str]:
        lines: list[str] = self.state().get("showing", [])
        return lines

    def wait_showing(self, text: str, timeout: float = 10) -> list[str]:
        """Wait until some shown line contains ``text``."""
        return wait_for(lambda: [line for line in self.showing() if text in line], timeout=timeout, what=text)

    def arm_faults(self, **faults: float) -> None:
        self.faults_path.write_text(json.dumps(faults))


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_sign(
    tmp: Path,
    *,
    mode: str = "tcp",
    port: int | None = None,
    serial: Path | None = None,
    profile: str = "mpm-gbk",
) -> Iterator[RunningSign]:
    """The simulator on TCP (``mode="tcp"``), its own pty (``"pty"``) or a serial path (``"serial"``)."""
    tag = f"{mode}-{free_port()}"
    state, png, faults = tmp / f"sign-{tag}.json", tmp / f"sign-{tag}.png", tmp / f"faults-{tag}.json"
    state.unlink(missing_ok=True)
    args = [sys.executable, "-m", "simulators.cli", "modbus-sign", "--profile", profile]
    args += ["--state", str(state), "--png", str(png), "--faults", str(faults)]
    link: Path | None = None
    if mode == "tcp":
        port = port or free_port()
        args += ["--tcp", f"127.0.0.1:{port}"]
    elif mode == "pty":
        link = tmp / f"tty-{tag}"
        args += ["--pty", str(link)]
    else:
        assert serial is not None
        args += ["--serial", str(serial)]
    log = (tmp / f"sim-{tag}.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: state.exists() or process.poll() is not None, timeout=20, what="modbus-sign start")
        assert process.poll() is None, (tmp / f"sim-{tag}.log").read_text()
        yield RunningSign(state, png, faults, process, port=port, link=link)
    finally:
        stop(process)
        log.close()


@contextmanager
def socat_pair(tmp: Path) -> Iterator[tuple[Path, Path]]:
    """Two linked pty ends ``(a, b)`` from socat; bytes written to one are read from the other."""
    binary = shutil.which("socat")
    assert binary, "socat is required: apt-get install -y socat"
    a, b = tmp / f"ttyA-{free_port()}", tmp / f"ttyB-{free_port()}"
    process = subprocess.Popen(
        [binary, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: a.exists() and b.exists(), timeout=10, what="socat links")
        yield a, b
    finally:
        stop(process)
