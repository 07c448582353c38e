"""Reading the site file: TOML → ``SiteConfig``, with every problem named by device and field.

Per-device rules live in the models (``config.py``); the rules that span devices live here: unique
names, ports, pty links and serial numbers, and one server URL per zk_push listener.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from simulators.site.config import (
    Device,
    IsapiFaceDevice,
    ModbusSignDevice,
    SiteConfig,
    SiteConfigError,
    ZkPushDevice,
    ZkTerminalDevice,
    device_label,
)

EX_CONFIG = 78  # sysexits.h: configuration error (the agent exits with the same code)


def load_site(path: Path) -> SiteConfig:
    """Read and validate the site file; raise ``SiteConfigError`` naming device and field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteConfigError(f"{path}: not valid TOML ({exc})") from None
    return validate_site(raw, source=str(path))


def validate_site(raw: dict[str, Any], *, source: str) -> SiteConfig:
    """Validate parsed TOML: per-device models, then the checks that span devices."""
    try:
        site = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        raise SiteConfigError("\n".join(_describe(error, raw, source) for error in exc.errors())) from None
    problems = list(cross_device_problems(site))
    if problems:
        raise SiteConfigError("\n".join(f"{source}: {problem}" for problem in problems))
    return site


def cross_device_problems(site: SiteConfig) -> Iterator[str]:
    """Every rule that needs more than one device to break, as ``device "x" (kind): field: ...``."""
    yield from _duplicates(site.device, "name", lambda d: d.name)
    yield from _duplicates(site.device, "port", _fixed_endpoint)
    yield from _duplicates(site.device, "pty", lambda d: getattr(d, "pty", None))
    pushers = [d for d in site.device if isinstance(d, ZkPushDevice)]
    yield from _duplicates(pushers, "sn", lambda d: d.sn)
    yield from _listener_problems(pushers)
    pins = [user.pin for user in site.user]
    for pin in sorted({pin for pin in pins if pins.count(pin) > 1}):
        yield f"user: pin {pin!r} is used twice"


def _fixed_endpoint(device: Device) -> tuple[str, int] | None:
    """The TCP endpoint a device occupies when its port is fixed (0 is picked later, never clashes)."""
    match device:
        case ZkTerminalDevice() | IsapiFaceDevice() if device.port:
            return device.host, device.port
        case ModbusSignDevice() if device.tcp_endpoint and device.tcp_endpoint[1]:
            return device.tcp_endpoint
    return None


def _duplicates(devices: list[Any], field: str, key: Any) -> Iterator[str]:
    first: dict[object, Device] = {}
    for device in devices:
        value = key(device)
        if value is None:
            continue
        if value in first:
            owner = device_label(first[value])
            yield f"{device_label(device)}: {field}: {value!r} is already used by {owner}"
        else:
            first[value] = device


def _listener_problems(pushers: list[ZkPushDevice]) -> Iterator[str]:
    """One zk_push listener is one agent port: its terminals share server URL and timezone."""
    by_listener: dict[str, list[ZkPushDevice]] = defaultdict(list)
    for device in pushers:
        by_listener[device.listener].append(device)
    for group in by_listener.values():
        head = group[0]
        for device in group[1:]:
            if device.server != head.server:
                yield f"{device_label(device)}: server: listener {head.listener!r} serves {head.server}"
            if device.timezone != head.timezone:
                yield f"{device_label(device)}: timezone: listener {head.listener!r} uses {head.timezone}"
    servers: dict[str, str] = {}
    for listener, group in by_listener.items():
        server = group[0].server.rstrip("/")
        if server in servers and not server.endswith(":0"):
            yield (
                f"{device_label(group[0])}: listener: {server} is already listener {servers[server]!r}; "
                "terminals pushing to one URL share one listener"
            )
        servers.setdefault(server, listener)


def _describe(error: ErrorDetails, raw: dict[str, Any], source: str) -> str:
    """``source: device "x" (kind): field: message`` for one pydantic error."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "device" and isinstance(loc[1], int):
        entries = raw.get("device")
        entry = entries[loc[1]] if isinstance(entries, list) else {}
        entry = entry if isinstance(entry, dict) else {}
        rest = loc[2:]
        if rest and rest[0] == entry.get("kind"):
            rest = rest[1:]  # the discriminator's own level
        field = ".".join(str(part) for part in rest) or ("kind" if "tag" in error["type"] else "(device)")
        return f"{source}: {_raw_label(entry, loc[1])}: {field}: {error['msg']}"
    field = ".".join(str(part) for part in loc) or "(top level)"
    return f"{source}: {field}: {error['msg']}"


def _raw_label(entry: dict[str, Any], index: int) -> str:
    name, kind = entry.get("name"), entry.get("kind")
    who = f'device "{name}"' if isinstance(name, str) else f"device #{index + 1} (unnamed)"
    return f"{who} ({kind})" if isinstance(kind, str) else who
