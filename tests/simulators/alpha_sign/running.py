"""Run ``mpm-sim alpha-sign --pty`` as a subprocess for a test, and read its state file."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulators.state_file import read_state
from tests.support.polling import wait_for


@dataclasses.dataclass
class RunningSign:
    link: Path
    state_path: Path
    process: subprocess.Popen[bytes]

    def state(self) -> dict[str, Any]:
        return read_state(self.state_path) or {}

    def wait_state(self, probe: Any, *, what: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll the state file until ``probe(state)`` is truthy; returns that state."""
        return wait_for(lambda: (s := self.state()) and probe(s) and s, timeout=timeout, what=what)


@contextlib.contextmanager
def running_sign(tmp: Path, *extra: str, link: Path | None = None) -> Iterator[RunningSign]:
    """An Alpha sign simulator on a pty symlinked at ``link`` (default ``tmp/ttySign``)."""
    link = link or tmp / "ttySign"
    state = tmp / f"sign-state-{link.name}.json"
    state.unlink(missing_ok=True)
    command = [sys.executable, "-m", "simulators.cli", "--log-level", "WARNING", "alpha-sign"]
    command += ["--pty", str(link), "--state", str(state), *extra]
    process = subprocess.Popen(command)
    try:
        wait_for(lambda: state.exists() or process.poll() is not None, timeout=15, what="simulator start")
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited with {process.returncode}")
        yield RunningSign(link=link, state_path=state, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
