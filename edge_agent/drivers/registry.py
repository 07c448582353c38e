"""Driver construction by ``kind``, importing only the driver modules the inventory uses.

Lazy imports keep the agent's memory down (DESIGN memory facts: each protocol stack costs MBs);
the table says, per kind, where the driver lives, whether it takes the outbox as its event sink and
whether it is a sign (gets display content).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Container, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from edge_agent.device_health import DeviceHealth
from edge_agent.display import Sign
from edge_agent.records import EventSink


class DriverUnavailable(Exception):
    """A configured kind has no importable driver module; the message names the module."""


class Runnable(Protocol):
    async def run(self) -> None:
        """Serve the device until cancelled."""
        ...


class DeviceConfigLike(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DriverKind:
    module: str
    class_name: str
    takes_sink: bool
    is_sign: bool
    takes_tombstones: bool = False  # erased PINs (PRIVACY.md DEL-2), deleted again if they reappear
    takes_state_dir: bool = False  # a directory for small state files of its own (beside the outbox)


DRIVER_KINDS: Final[Mapping[str, DriverKind]] = {
    "zkteco": DriverKind(
        module="edge_agent.drivers.zkteco.driver",
        class_name="ZkTerminalDriver",
        takes_sink=True,
        is_sign=False,
        takes_tombstones=True,
    ),
    "alpha_sign": DriverKind(
        module="edge_agent.drivers.alpha_sign.driver",
        class_name="AlphaSignDriver",
        takes_sink=False,
        is_sign=True,
    ),
    "modbus_led": DriverKind(
        module="edge_agent.drivers.modbus_led.driver",
        class_name="ModbusLedDriver",
        takes_sink=False,
        is_sign=True,
    ),
    "zk_push": DriverKind(
        module="edge_agent.drivers.zk_push.driver",
        class_name="ZkPushDriver",
        takes_sink=True,
        is_sign=False,
        takes_tombstones=True,
        takes_state_dir=True,
    ),
    "isapi_face": DriverKind(
        module="edge_agent.drivers.isapi.driver",
        class_name="IsapiFaceDriver",
        takes_sink=True,
        is_sign=False,
        takes_tombstones=True,
    ),
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Drivers:
    """Every configured driver by device name; ``signs`` are the ones that show display content."""

    runners: Mapping[str, Runnable]
    signs: Mapping[str, Sign]


def driver_class(kind: str, table: Mapping[str, DriverKind] = DRIVER_KINDS) -> Any:
    """Import and return the driver class for ``kind``; ``DriverUnavailable`` names what is missing."""
    entry = table.get(kind)
    if entry is None:
        raise DriverUnavailable(f"no driver is registered for kind {kind!r}")
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        raise DriverUnavailable(
            f"driver for kind {kind!r} cannot be loaded: module {exc.name or entry.module} is not installed"
        ) from exc
    try:
        return getattr(module, entry.class_name)
    except AttributeError:
        raise DriverUnavailable(f"module {entry.module} has no class {entry.class_name}") from None


def build_drivers(
    configs: Iterable[DeviceConfigLike],
    *,
    sink: EventSink,
    health: DeviceHealth,
    table: Mapping[str, DriverKind] = DRIVER_KINDS,
    tombstones: Container[str] = frozenset(),
    state_dir: Path | None = None,
) -> Drivers:
    """One driver per configured device, constructed as its kind's table entry says."""
    runners: dict[str, Runnable] = {}
    signs: dict[str, Sign] = {}
    for config in configs:
        entry = table.get(config.kind)
        cls = driver_class(config.kind, table)
        extra: dict[str, object] = {"tombstones": tombstones} if entry and entry.takes_tombstones else {}
        if entry and entry.takes_state_dir and state_dir is not None:
            extra["state_dir"] = state_dir
        driver = cls(config, sink, health, **extra) if entry and entry.takes_sink else cls(config, health)
        health.register(config.name)
        runners[config.name] = driver
        if entry and entry.is_sign:
            signs[config.name] = driver
    return Drivers(runners=runners, signs=signs)
