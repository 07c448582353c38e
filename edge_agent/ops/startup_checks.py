"""Start-up checks that gate ``READY=1``: the unit is "active" only when the agent can really work.

Order and exit codes (sysexits, so systemd's ``RestartPreventExitStatus=78`` can tell them apart):
1. the configuration loads and validates, else exit 78 (EX_CONFIG: a restart cannot fix it);
2. the outbox database opens and ``PRAGMA quick_check`` says ``ok`` (or, if it does not exist yet, its
   directory is writable), else exit 65 (EX_DATAERR);
3. every configured serial port exists and we can open it read/write, else exit 69 (EX_UNAVAILABLE: a
   USB adapter that enumerates late is worth a restart). Ports get a short grace period to appear.
   Every ``port`` string of the inventory is checked, not only ``/dev/...`` ones: a relative path
   (``ttyUSB0``) would be opened relative to the service's working directory, so it fails by name.
   The failure names the port and the devices configured on it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from edge_agent import systemd_notify
from edge_agent.settings_layers import EX_CONFIG, ConfigError

__all__ = [
    "CheckResult",
    "StartupReport",
    "announce",
    "check_database",
    "check_serial_port",
    "devices_by_port",
    "run_startup_checks",
    "serial_ports_in",
]

C = TypeVar("C")

EX_OK = 0
EX_DATAERR = 65
EX_UNAVAILABLE = 69


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    exit_code: int = EX_OK


@dataclass(frozen=True, kw_only=True, slots=True)
class StartupReport(Generic[C]):
    config: C | None
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def exit_code(self) -> int:
        """The exit code of the first failed check, 0 when all passed."""
        return next((check.exit_code for check in self.checks if not check.ok), EX_OK)

    def summary(self) -> str:
        """One line for ``STATUS=`` and the log."""
        failed = [f"{c.name}: {c.detail}" for c in self.checks if not c.ok]
        if failed:
            return "start-up checks failed: " + "; ".join(failed)
        return f"ready: {len(self.checks)} start-up checks passed"


def check_database(path: Path) -> CheckResult:
    """The outbox database opens and passes ``PRAGMA quick_check`` (or can be created)."""
    name = f"database {path}"
    if not path.exists():
        writable = os.access(path.parent, os.W_OK | os.X_OK)
        detail = "absent, will be created" if writable else f"absent and {path.parent} is not writable"
        return CheckResult(name=name, ok=writable, detail=detail, exit_code=EX_DATAERR)
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5.0)) as connection:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        return CheckResult(name=name, ok=False, detail=f"cannot open: {exc}", exit_code=EX_DATAERR)
    ok = verdict == "ok"
    return CheckResult(
        name=name, ok=ok, detail="quick_check ok" if ok else f"quick_check: {verdict}", exit_code=EX_DATAERR
    )


def _wait_until_exists(path: str, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)  # polling a device node that udev has not created yet; bounded by wait_s
    return True


def check_serial_port(path: str, *, wait_s: float = 0.0, users: Sequence[str] = ()) -> CheckResult:
    """The port is an absolute path, exists (within ``wait_s``) and this process can open it read/write."""
    name = f"serial port {path}"
    used_by = f" (configured for {', '.join(users)})" if users else ""
    if not os.path.isabs(path):
        detail = f"not an absolute device path; write /dev/{path.lstrip('./')} or a /dev/serial/by-id/ link"
        return CheckResult(name=name, ok=False, detail=detail + used_by, exit_code=EX_UNAVAILABLE)
    if not _wait_until_exists(path, wait_s):
        return CheckResult(
            name=name,
            ok=False,
            detail="does not exist (adapter unplugged? see `mpm-agent ports`)" + used_by,
            exit_code=EX_UNAVAILABLE,
        )
    try:
        # The open itself is the test: it also sees cgroup DeviceAllow denials that os.access() cannot.
        os.close(os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC))
    except OSError as exc:
        detail = f"cannot open read/write: {exc.strerror}{used_by}"
        return CheckResult(name=name, ok=False, detail=detail, exit_code=EX_UNAVAILABLE)
    return CheckResult(name=name, ok=True, detail="opens read/write")


def serial_ports_in(config: object) -> list[str]:
    """The ``port`` of every configured device that names a serial line (a string: TCP ports are ints)."""
    return list(devices_by_port(config))


def devices_by_port(config: object) -> dict[str, list[str]]:
    """Each configured serial port and the names of the devices on it, in configuration order."""
    users: dict[str, list[str]] = {}
    for device in getattr(config, "devices", []):
        port = getattr(device, "port", None)
        if isinstance(port, str):
            users.setdefault(port, []).append(str(getattr(device, "name", "?")))
    return users


def run_startup_checks(
    load_config: Callable[[], C],
    *,
    database_path: Callable[[C], Path],
    serial_ports: Callable[[C], Iterable[str]] = serial_ports_in,
    port_users: Callable[[C], Mapping[str, Sequence[str]]] = devices_by_port,
    config_errors: tuple[type[Exception], ...] = (ConfigError, ValueError, OSError),
    port_wait_s: float = 10.0,
) -> StartupReport[C]:
    """Load the config, then check the database and every serial port; stop at a config failure."""
    try:
        config = load_config()
    except config_errors as exc:
        failed = CheckResult(name="config", ok=False, detail=str(exc), exit_code=EX_CONFIG)
        return StartupReport(config=None, checks=(failed,))
    checks = [CheckResult(name="config", ok=True, detail="valid")]
    checks.append(check_database(database_path(config)))
    users = port_users(config)
    checks.extend(
        check_serial_port(port, wait_s=port_wait_s, users=users.get(port, ()))
        for port in serial_ports(config)
    )
    return StartupReport(config=config, checks=tuple(checks))


def announce(report: StartupReport[C]) -> bool:
    """Send ``STATUS=`` with the summary, and ``READY=1`` only when every check passed."""
    systemd_notify.status(report.summary())
    return report.ok and systemd_notify.ready()
