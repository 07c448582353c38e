"""A validated site made concrete: every port 0 replaced by a free port, every path absolute.

The result is the same device models with concrete values, so the command lines, ``site.json``
and the agent inventory are all built from one source and cannot disagree.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from simulators.site.config import (
    AlphaSignDevice,
    Device,
    IsapiFaceDevice,
    ModbusSignDevice,
    SiteConfig,
    ZkPushDevice,
    ZkTerminalDevice,
)
from simulators.site.layout import PortPicker, SiteLayout


def resolve_site(site: SiteConfig, layout: SiteLayout) -> list[Device]:
    """The site's devices with ports picked and paths made absolute."""
    picker = PortPicker({port for device in site.device if (port := _fixed_port(device))})
    shared_users = layout.users if site.user else None
    listener_urls: dict[str, str] = {}
    resolved: list[Device] = []
    for device in site.device:
        match device:
            case ZkTerminalDevice():
                port = device.port or picker.pick(device.host, udp_too=True)
                users = _users(device.users, shared_users, layout)
                resolved.append(device.model_copy(update={"port": port, "users": users}))
            case ZkPushDevice():
                server = listener_urls.setdefault(device.listener, _server_url(device.server, picker))
                users = _users(device.users, shared_users, layout)
                resolved.append(device.model_copy(update={"server": server, "users": users}))
            case IsapiFaceDevice():
                resolved.append(device.model_copy(update={"port": device.port or picker.pick(device.host)}))
            case AlphaSignDevice():
                pty = layout.in_state_dir(device.pty) if device.pty else None
                resolved.append(device.model_copy(update={"pty": pty}))
            case ModbusSignDevice():
                resolved.append(_resolve_modbus(device, picker, layout))
    return resolved


def _fixed_port(device: Device) -> int | None:
    match device:
        case ZkTerminalDevice() | IsapiFaceDevice():
            return device.port or None
        case ModbusSignDevice() if device.tcp_endpoint:
            return device.tcp_endpoint[1] or None
        case ZkPushDevice():
            return urlsplit(device.server).port or None
    return None


def _users(own: Path | None, shared: Path | None, layout: SiteLayout) -> Path | None:
    """A terminal's own users file (relative to the site file), else the site's shared one."""
    return layout.from_config(own) if own else shared


def _server_url(server: str, picker: PortPicker) -> str:
    """``server`` without a trailing slash; port 0 becomes a free port for the agent's listener."""
    parts = urlsplit(server)
    host = parts.hostname or "127.0.0.1"
    return f"http://{host}:{parts.port or picker.pick(host)}"


def _resolve_modbus(device: ModbusSignDevice, picker: PortPicker, layout: SiteLayout) -> ModbusSignDevice:
    update: dict[str, object] = {}
    if device.tcp_endpoint:
        host, port = device.tcp_endpoint
        update["tcp"] = f"{host}:{port or picker.pick(host)}"
    if device.pty:
        update["pty"] = layout.in_state_dir(device.pty)
    if device.faults:
        update["faults"] = layout.from_config(device.faults)
    return device.model_copy(update=update)
