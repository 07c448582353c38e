"""The device inventory pushed by the cloud: validated here, merged with the installer's local pins.

The cloud sends ``apply_inventory`` on the command channel with ``{"version": n, "devices": [...]}``
(the same entries as ``[[devices]]`` in agent.toml). Rules:
- the whole inventory is validated with the agent's own device models before anything changes; a bad
  one is refused with the reason (naming the entry and field) and the running devices are kept;
- a version not above the one applied is not applied again (a command may be redelivered);
- local TOML wins: a device named in agent.toml (or conf.d) is pinned, the cloud's entry of that name
  is ignored; devices only the cloud names are added;
- an accepted inventory is saved beside the outbox (``cloud-inventory.json``), so the box starts with
  it after a restart, before the cloud is reachable.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import TypeAdapter, ValidationError

from edge_agent.config import AnyDeviceConfig, DeviceConfig
from edge_agent.drivers.registry import DriverUnavailable, driver_class

APPLY_INVENTORY: Final = "apply_inventory"
SAVED_FILE: Final = "cloud-inventory.json"
MAX_DEVICES: Final = 64

Source = Literal["local", "cloud"]
_DEVICES: Final = TypeAdapter(list[DeviceConfig])


class InventoryRefused(Exception):
    """The inventory cannot be applied; the message says which entry and field, and why."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CloudInventory:
    version: int
    devices: tuple[AnyDeviceConfig, ...]
    given: Mapping[str, frozenset[str]]  # per device name, the keys the cloud set (others: defaults)


def parse_inventory(args: Mapping[str, Any]) -> CloudInventory:
    """The command's arguments as a validated inventory, or ``InventoryRefused``."""
    version = args.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InventoryRefused("version: must be a positive integer")
    raw = args.get("devices")
    if not isinstance(raw, list) or len(raw) > MAX_DEVICES:
        raise InventoryRefused(f"devices: must be a list of at most {MAX_DEVICES} entries")
    try:
        devices = _DEVICES.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InventoryRefused(f"devices.{where}: {first['msg']}") from None
    names = [d.name for d in devices]
    for name in names:
        if names.count(name) > 1:
            raise InventoryRefused(f"devices: the name {name!r} is used twice")
    for device in devices:
        try:
            driver_class(device.kind)
        except DriverUnavailable as error:
            raise InventoryRefused(f"devices.{device.name}: {error}") from None
    given = {d.name: frozenset(entry) for d, entry in zip(devices, raw, strict=True)}
    return CloudInventory(version=version, devices=tuple(devices), given=given)


def merged(
    local: Sequence[AnyDeviceConfig], cloud: CloudInventory | None
) -> tuple[list[AnyDeviceConfig], dict[str, Source]]:
    """The devices to run and where each came from: local pins first, then the cloud's others."""
    devices = list(local)
    sources: dict[str, Source] = {d.name: "local" for d in local}
    for device in cloud.devices if cloud else ():
        if device.name not in sources:
            devices.append(device)
            sources[device.name] = "cloud"
    return devices, sources


def saved_path(state_dir: Path) -> Path:
    return state_dir / SAVED_FILE


def load_saved(state_dir: Path) -> CloudInventory | None:
    """The last accepted inventory, or None (none yet, or unreadable: the cloud will send it again)."""
    try:
        return parse_inventory(json.loads(saved_path(state_dir).read_text(encoding="utf-8")))
    except (OSError, ValueError, InventoryRefused):
        return None


def save(state_dir: Path, args: Mapping[str, Any]) -> None:
    """Write the accepted inventory atomically (temp file, fsync, rename)."""
    path = saved_path(state_dir)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump({"version": args["version"], "devices": args["devices"]}, out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
