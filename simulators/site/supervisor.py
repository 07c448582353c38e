"""The site's child processes: started together, watched until all serve, stopped together.

Rules: each child runs in its own session, so a Ctrl-C at the terminal reaches only the runner,
which then stops every child with SIGTERM (SIGKILL after a grace period); on Linux each child also
asks the kernel for SIGTERM should the runner die without doing so. A child that exits is reported
once, with the tail of its log.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Final

from simulators.site.launch import FileIdentity, Launch, file_identity, remove_stale_link, tcp_port_taken

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG: Final = 1
LOG_TAIL_LINES: Final = 20
POLL_S: Final = 0.1


class SiteStartError(Exception):
    """A simulator died or did not come up in time; the message says which and why."""


@dataclasses.dataclass(kw_only=True, slots=True)
class Child:
    launch: Launch
    process: subprocess.Popen[bytes]
    before: FileIdentity  # the fresh-file identity at launch (see Readiness)
    reported: bool = False

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def describe_exit(self) -> str:
        """Which device exited, how, and the last lines of its log."""
        with self.launch.log.open(encoding="utf-8", errors="replace") as src:
            tail = "".join(collections.deque(src, maxlen=LOG_TAIL_LINES))
        return (
            f'device "{self.launch.name}" ({self.launch.kind}) exited with code {self.process.returncode}; '
            f"last lines of {self.launch.log}:\n{tail.rstrip()}"
        )


class Site:
    """Start, watch and stop one process per device."""

    def __init__(self, launches: Sequence[Launch]) -> None:
        self.launches = list(launches)
        self.children: list[Child] = []

    def check_ports(self) -> None:
        """Raise ``SiteStartError`` when a port is held already: "it accepts" would then prove nothing."""
        taken = []
        for launch in self.launches:
            if launch.readiness.tcp and tcp_port_taken(*launch.readiness.tcp):
                host, port = launch.readiness.tcp
                taken.append(f'device "{launch.name}" ({launch.kind}): port: {host}:{port} is already in use')
        if taken:
            raise SiteStartError("\n".join(taken))

    def start(self) -> None:
        """Launch every simulator (logs appended to its log file)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for launch in self.launches:
            remove_stale_link(launch.readiness.link)
            launch.log.parent.mkdir(parents=True, exist_ok=True)
            before = file_identity(launch.readiness.fresh_file) if launch.readiness.fresh_file else None
            with launch.log.open("ab") as out:
                process = subprocess.Popen(
                    launch.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            log.info("started %s %s (pid %d)", launch.kind, launch.name, process.pid)
            self.children.append(Child(launch=launch, process=process, before=before))

    def wait_all_up(self, timeout_s: float, stop: threading.Event) -> None:
        """Return once every simulator serves; raise ``SiteStartError`` on a death or the deadline."""
        deadline = time.monotonic() + timeout_s
        pending = list(self.children)
        while pending:
            if exits := self.newly_exited():
                raise SiteStartError("\n".join(exits))
            pending = [c for c in pending if not c.launch.readiness.reached(c.before)]
            if not pending:
                return
            if stop.is_set():
                raise SiteStartError("stopped before every simulator was up")
            if time.monotonic() > deadline:
                names = ", ".join(c.launch.name for c in pending)
                raise SiteStartError(f"not up after {timeout_s:g} s: {names} (see their logs)")
            stop.wait(POLL_S)

    def newly_exited(self) -> list[str]:
        """A report for each child that exited since the last call."""
        reports = []
        for child in self.children:
            if not child.running and not child.reported:
                child.reported = True
                reports.append(child.describe_exit())
        return reports

    @property
    def any_running(self) -> bool:
        return any(child.running for child in self.children)

    def stop_all(self, grace_s: float = 10.0) -> None:
        """SIGTERM every running child, wait up to ``grace_s``, then SIGKILL what is left."""
        for child in self.children:
            if child.running:
                child.process.terminate()
        deadline = time.monotonic() + grace_s
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %g s: killing it", child.launch.name, grace_s)
                child.process.kill()
                child.process.wait()

    def description(self) -> dict[str, Any]:
        """Each device's site.json entry with its pid and whether it still runs."""
        return {
            child.launch.name: {
                **child.launch.entry,
                "pid": child.process.pid,
                "running": child.running,
                "exit_code": child.process.returncode,
            }
            for child in self.children
        }


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the runner dies (Linux prctl; elsewhere nothing)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
