"""``mpm-agent ports``: every serial port, its stable names, USB identity, and who may open it.

Installers meet three traps here: ``/dev/ttyUSB0`` and ``ttyUSB1`` swap on reboot (configure the stable
``/dev/serial/by-id`` or ``by-path`` link instead), a port owned by a group the service is not in, and two
identical adapters without serial numbers (same by-id name: only by-path tells them apart). This listing
shows all three. Permission rule (the kernel's, for a non-root process): owner bits if we own the file,
else group bits if the file's group is one of ours, else other bits; both read and write are needed.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "PortInfo",
    "can_read_write",
    "links_to",
    "list_ports",
    "port_info",
    "render_json",
    "render_text",
    "service_groups",
]

BY_ID_ROOT = Path("/dev/serial/by-id")
BY_PATH_ROOT = Path("/dev/serial/by-path")
SERVICE_USER = "mpm-agent"
SERVICE_SUPPLEMENTARY_GROUPS = ("dialout",)  # SupplementaryGroups= in mpm-agent.service


@dataclass(frozen=True, kw_only=True, slots=True)
class PortInfo:
    device: str
    by_id: tuple[str, ...]
    by_path: tuple[str, ...]
    usb_vid_pid: str | None  # "0403:6001"
    usb_serial: str | None
    description: str | None
    owner: str
    group: str
    mode: str  # "0660"
    you_can_open: bool
    service_can_open: bool | None  # None when the service user does not exist (package not installed)


def _name_of_group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _name_of_user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def can_read_write(st: os.stat_result, uid: int, gids: Collection[int]) -> bool:
    """Whether a process with ``uid`` and groups ``gids`` may open a file with this stat read/write."""
    if uid == 0:
        return True
    if st.st_uid == uid:
        needed = stat.S_IRUSR | stat.S_IWUSR
    elif st.st_gid in gids:
        needed = stat.S_IRGRP | stat.S_IWGRP
    else:
        needed = stat.S_IROTH | stat.S_IWOTH
    return st.st_mode & needed == needed


def service_groups(
    user: str, extra_groups: Iterable[str] = SERVICE_SUPPLEMENTARY_GROUPS
) -> tuple[int, set[int]] | None:
    """``(uid, gids)`` of the service: primary group, memberships, the unit's supplementary groups."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    gids = set(os.getgrouplist(user, entry.pw_gid))
    for name in extra_groups:
        try:
            gids.add(grp.getgrnam(name).gr_gid)
        except KeyError:
            continue
    return entry.pw_uid, gids


def links_to(device: str, root: Path) -> tuple[str, ...]:
    """Every symlink directly in ``root`` that resolves to ``device``, sorted."""
    if not root.is_dir():
        return ()
    target = os.path.realpath(device)
    return tuple(
        sorted(str(link) for link in root.iterdir() if link.is_symlink() and os.path.realpath(link) == target)
    )


def _usb_identity(device: str) -> tuple[str | None, str | None, str | None]:
    from serial.tools.list_ports_linux import SysFS  # lazy: pyserial only when ports are listed

    info = SysFS(device)
    vid_pid = f"{info.vid:04x}:{info.pid:04x}" if info.vid is not None and info.pid is not None else None
    description = info.description if info.description not in (None, "n/a") else None
    return vid_pid, info.serial_number, description


def port_info(
    device: str,
    *,
    by_id_root: Path = BY_ID_ROOT,
    by_path_root: Path = BY_PATH_ROOT,
    service: tuple[int, set[int]] | None = None,
) -> PortInfo:
    """Describe one device node: links, USB identity, ownership, and who can open it."""
    st = os.stat(device)
    vid_pid, serial_number, description = _usb_identity(device)
    return PortInfo(
        device=device,
        by_id=links_to(device, by_id_root),
        by_path=links_to(device, by_path_root),
        usb_vid_pid=vid_pid,
        usb_serial=serial_number,
        description=description,
        owner=_name_of_user(st.st_uid),
        group=_name_of_group(st.st_gid),
        mode=f"{stat.S_IMODE(st.st_mode):04o}",
        you_can_open=can_read_write(st, os.geteuid(), set(os.getgroups()) | {os.getegid()}),
        service_can_open=None if service is None else can_read_write(st, *service),
    )


def list_ports(
    *, by_id_root: Path = BY_ID_ROOT, by_path_root: Path = BY_PATH_ROOT, service_user: str = SERVICE_USER
) -> list[PortInfo]:
    """Every serial port the kernel reports (USB adapters, CDC-ACM boards, on-board UARTs)."""
    from serial.tools.list_ports import comports

    service = service_groups(service_user)
    devices = sorted({port.device for port in comports()})
    return [
        port_info(device, by_id_root=by_id_root, by_path_root=by_path_root, service=service)
        for device in devices
        if os.path.exists(device)
    ]


def _yes_no(value: bool | None) -> str:
    return "n/a (user missing)" if value is None else ("yes" if value else "NO")


def _describe(port: PortInfo, service_user: str) -> list[str]:
    lines = [
        f"{port.device}  {port.owner}:{port.group} {port.mode}  you: {_yes_no(port.you_can_open)}  "
        f"{service_user}: {_yes_no(port.service_can_open)}"
    ]
    if port.usb_vid_pid:
        lines.append(
            f"  usb:     {port.usb_vid_pid} {port.description or ''} serial={port.usb_serial or '(none)'}"
        )
    lines.extend(f"  by-id:   {link}" for link in port.by_id)
    lines.extend(f"  by-path: {link}" for link in port.by_path)
    if port.usb_vid_pid and not port.by_id:
        lines.append("  hint: no by-id link; configure the by-path link (stable per USB socket)")
    if port.service_can_open is False:
        lines.append(f"  hint: {service_user} cannot open it: group should be dialout, mode 0660 (udev rule)")
    return lines


def render_text(ports: Sequence[PortInfo], *, service_user: str = SERVICE_USER) -> str:
    """Human listing; configure the ``by-id`` (or ``by-path``) names, never ``/dev/ttyUSBn``."""
    if not ports:
        return "no serial ports found (adapter plugged in? `dmesg | tail` shows USB enumeration)\n"
    lines = [line for port in ports for line in _describe(port, service_user)]
    return "\n".join(lines) + "\n"


def render_json(ports: Sequence[PortInfo]) -> str:
    """``mpm-agent ports --json``: a list of objects, one per port."""
    return json.dumps([asdict(port) for port in ports], indent=2) + "\n"
