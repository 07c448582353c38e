"""``mpm-agent ports``: every serial port, its stable names, USB identity, and who may open it.

Installers meet three traps here: ``/dev/ttyUSB0`` and ``ttyUSB1`` swap on reboot (configure the stable
``/dev/serial/by-id`` or ``by-path`` link instead), a port owned by a group the service is not in, and two
identical adapters without serial numbers (same by-id name: only by-path tells them apart). This listing
shows all three. Permission rule (the kernel's, for a non-root process): owner bits if we own the file,
else group bits if the file's group is one of ours, else other bits; both read and write are needed.

Operator check: each CONFIGURED port (a device's ``port`` in the inventory) that is missing or that the
service user cannot open gets a ``problem`` and one ``FAIL`` line; the command then exits 1. Ports
nobody configured are listed for information and never fail. When the service user does not exist
(package not installed yet), the port is judged by a real open from this process instead.
"""

from __future__ import annotations

import dataclasses
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
    "check_configured",
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
    configured: bool = False  # a device's port in the inventory: then problem decides the exit code
    problem: str | None = None


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


def _verdict(port: PortInfo) -> str:
    if port.problem:
        return f"FAIL    serial port {port.device}: {port.problem}"
    who = "you can (service user missing)" if port.service_can_open is None else "the service can"
    return f"ok      serial port {port.device}: configured; {who} open it"


def render_text(ports: Sequence[PortInfo], *, service_user: str = SERVICE_USER) -> str:
    """Human listing, then one ``ok``/``FAIL`` line per configured port; configure ``by-id`` names."""
    listed = [port for port in ports if port.owner]  # a missing configured port has no node to list
    lines = [line for port in listed for line in _describe(port, service_user)]
    if not listed:
        lines.append("no serial ports found (adapter plugged in? `dmesg | tail` shows USB enumeration)")
    lines.extend(_verdict(port) for port in ports if port.configured)
    return "\n".join(lines) + "\n"


def render_json(ports: Sequence[PortInfo]) -> str:
    """``mpm-agent ports --json``: a list of objects, one per port."""
    return json.dumps([asdict(port) for port in ports], indent=2) + "\n"


def _opens_for_us(device: str) -> bool:
    try:  # the open itself is the test (it also sees cgroup DeviceAllow denials)
        os.close(os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC))
    except OSError:
        return False
    return True


def _configured(device: str, service: tuple[int, set[int]] | None, service_user: str) -> PortInfo:
    relative = not os.path.isabs(device)  # opened relative to the service's working directory: never right
    if relative or not os.path.exists(device):
        unknown = None if service is None else False
        missing = (
            f"not an absolute device path; write /dev/{device.lstrip('./')} or a /dev/serial/by-id/ link"
            if relative
            else "does not exist (adapter unplugged? configure its by-id link)"
        )
        return PortInfo(
            device=device, by_id=(), by_path=(), usb_vid_pid=None, usb_serial=None, description=None,
            owner="", group="", mode="", you_can_open=False, service_can_open=unknown,
            configured=True, problem=missing,
        )  # fmt: skip
    info = port_info(device, service=service)
    st = f"{info.owner}:{info.group} {info.mode}"
    if service is None:
        ok = _opens_for_us(device)
        problem = None if ok else f"cannot open read/write ({st}; {service_user} missing: judged for you)"
    else:
        ok = bool(info.service_can_open)
        problem = (
            None if ok else f"{service_user} cannot open read/write ({st}): group should be dialout, 0660"
        )
    return dataclasses.replace(info, configured=True, problem=problem)


def check_configured(
    listed: Sequence[PortInfo], configured: Iterable[str], *, service_user: str = SERVICE_USER
) -> list[PortInfo]:
    """``listed`` with every configured port marked (added when the kernel did not list it)."""
    service = service_groups(service_user)
    wanted = list(dict.fromkeys(configured))
    checked = {device: _configured(device, service, service_user) for device in wanted}
    real = {os.path.realpath(device): device for device in wanted}
    result = [port for port in listed if port.device not in real]
    return result + [checked[device] for device in wanted]
