"""What the runner needs to start one simulator: its command line, its readiness test, its entry.

Readiness is what a client would see: a TCP port that accepts, a pty link that exists, and for the
simulators that write their state when they start serving, a state file newer than the launch (its
identity, inode and mtime, differs from the one before the launch, so a file left by an earlier run
never counts).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
from pathlib import Path
from typing import Any

from simulators.site.config import (
    AlphaSignDevice,
    Device,
    IsapiFaceDevice,
    ModbusSignDevice,
    ZkPushDevice,
    ZkTerminalDevice,
)
from simulators.site.layout import SiteLayout, client_host

FileIdentity = tuple[int, int] | None


def file_identity(path: Path) -> FileIdentity:
    """(inode, mtime_ns) of ``path``, or None when it does not exist."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Readiness:
    """Conditions that together mean "this simulator serves"."""

    tcp: tuple[str, int] | None = None
    link: Path | None = None
    fresh_file: Path | None = None

    def reached(self, before: FileIdentity) -> bool:
        """True once every condition holds; ``before`` is the fresh file's identity at launch."""
        if self.link is not None and not (self.link.is_symlink() and self.link.exists()):
            return False
        if self.fresh_file is not None:
            now = file_identity(self.fresh_file)
            if now is None or now == before:
                return False
        return self.tcp is None or _accepts(*self.tcp)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Launch:
    """One child process of the site."""

    name: str
    kind: str
    argv: tuple[str, ...]
    readiness: Readiness
    entry: dict[str, Any]  # this device in site.json (the runner adds the pid)
    log: Path


def plan_launch(device: Device, layout: SiteLayout, log_level: str = "INFO") -> Launch:
    """The command line, readiness test and site.json entry of a resolved device."""
    flags, readiness, entry = _by_kind(device, layout)
    state = layout.state(device.name)
    argv = (sys.executable, "-m", "simulators.cli", "--log-level", log_level, device.kind, *flags)
    common = {"kind": device.kind, "state": str(state), "log": str(layout.log(device.name)), "png": None}
    return Launch(
        name=device.name,
        kind=device.kind,
        argv=argv,
        readiness=readiness,
        entry={**common, **entry},
        log=layout.log(device.name),
    )


def _by_kind(device: Device, layout: SiteLayout) -> tuple[list[str], Readiness, dict[str, Any]]:
    state = str(layout.state(device.name))
    match device:
        case ZkTerminalDevice():
            return _zk_terminal(device, state)
        case ZkPushDevice():
            return _zk_push(device, state)
        case IsapiFaceDevice():
            return _isapi_face(device, state)
        case AlphaSignDevice():
            return _alpha_sign(device, state, layout)
        case ModbusSignDevice():
            return _modbus_sign(device, state, layout)


def _zk_terminal(d: ZkTerminalDevice, state: str) -> tuple[list[str], Readiness, dict[str, Any]]:
    flags = ["--host", d.host, "--port", str(d.port), "--comm-key", str(d.comm_key), "--state", state]
    flags += ["--records", str(d.records), "--timezone", d.timezone, "--encoding", d.encoding]
    flags += _optional(users=d.users, punch_every=d.punch_every, serial_number=d.serial_number, fault=d.fault)
    # The terminal writes its state once TCP and UDP are bound: a port alone could be someone else's.
    readiness = Readiness(tcp=(d.host, d.port), fresh_file=Path(state))
    return flags, readiness, {"host": d.host, "port": d.port}


def _zk_push(d: ZkPushDevice, state: str) -> tuple[list[str], Readiness, dict[str, Any]]:
    flags = ["--server", d.server, "--sn", d.sn, "--state", state, "--language", d.language]
    flags += ["--timezone", d.timezone, "--path-style", d.path_style]
    flags += _optional(users=d.users, punch_every=d.punch_every, photos=d.photos, templates=d.templates)
    # A pushing terminal has no port of its own; it has started once it saved its first sync attempt.
    entry = {"server": d.server, "sn": d.sn, "listener": d.listener}
    return flags, Readiness(fresh_file=Path(state)), entry


def _isapi_face(d: IsapiFaceDevice, state: str) -> tuple[list[str], Readiness, dict[str, Any]]:
    flags = ["--host", d.host, "--port", str(d.port), "--user", d.user, "--password", d.password]
    flags += ["--state", state, "--boundary-style", d.boundary_style, "--heartbeat", str(d.heartbeat)]
    flags += _optional(
        punch_every=d.punch_every, pictures=d.pictures, ignore_picture_setting=d.ignore_picture_setting
    )
    entry = {"host": d.host, "port": d.port, "url": f"http://{client_host(d.host)}:{d.port}"}
    return flags, Readiness(tcp=(d.host, d.port)), entry


def _alpha_sign(
    d: AlphaSignDevice, state: str, layout: SiteLayout
) -> tuple[list[str], Readiness, dict[str, Any]]:
    png = str(layout.png(d.name))
    line = ["--pty", str(d.pty)] if d.pty else ["--serial", str(d.serial)]
    flags = [*line, "--baudrate", str(d.baudrate), "--address", d.address, "--state", state, "--png", png]
    flags += ["--fault-answer-delay", str(d.fault_answer_delay)]
    flags += _optional(fault_ignore=d.fault_ignore, fault_garble=d.fault_garble)
    readiness = Readiness(link=d.pty, fresh_file=Path(state))
    return flags, readiness, {**_line_entry(d.pty, d.serial), "png": png}


def _modbus_sign(
    d: ModbusSignDevice, state: str, layout: SiteLayout
) -> tuple[list[str], Readiness, dict[str, Any]]:
    png = str(layout.png(d.name))
    flags = ["--unit", str(d.unit), "--profile", d.profile, "--state", state, "--png", png]
    flags += _optional(tcp=d.tcp, serial=d.serial, pty=d.pty, faults=d.faults)
    endpoint = d.tcp_endpoint
    readiness = Readiness(tcp=endpoint, link=d.pty, fresh_file=Path(state))
    entry = {"host": endpoint[0], "port": endpoint[1]} if endpoint else _line_entry(d.pty, d.serial)
    return flags, readiness, {**entry, "png": png}


def _line_entry(pty: Path | None, serial: str | None) -> dict[str, Any]:
    return {"pty": str(pty)} if pty else {"serial": serial}


def _optional(**options: object) -> list[str]:
    """``--flag value`` for each option set; a bare ``--flag`` for each true boolean."""
    flags: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is not None and value is not False:
            flags += [flag, str(value)]
    return flags


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((client_host(host), port), timeout=0.5):
            return True
    except OSError:
        return False


def tcp_port_taken(host: str, port: int) -> bool:
    """True when a listener already holds ``host:port`` (bound like asyncio does, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def remove_stale_link(link: Path | None) -> None:
    """Remove a pty link left by an earlier run, so "the link exists" means this run made it."""
    if link is not None and link.is_symlink():
        os.unlink(link)
