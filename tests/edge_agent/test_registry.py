"""Driver registry: lazy imports by kind, sinks and signs wired as the table says, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.registry import (
    DriverKind,
    DriverUnavailable,
    build_drivers,
    driver_class,
)
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from edge_agent.outbox import Outbox


class FakeTerminal:
    def __init__(self, config: Any, sink: Any, health: DeviceHealth) -> None:
        self.config, self.sink, self.health = config, sink, health

    async def run(self) -> None:
        return None


class FakeSign:
    def __init__(self, config: Any, health: DeviceHealth) -> None:
        self.config, self.health = config, health

    async def run(self) -> None:
        return None

    async def show(self, content: Any) -> None:
        return None


TABLE = {
    "zkteco": DriverKind(module=__name__, class_name="FakeTerminal", takes_sink=True, is_sign=False),
    "alpha_sign": DriverKind(module=__name__, class_name="FakeSign", takes_sink=False, is_sign=True),
}


def test_drivers_are_built_from_the_table(tmp_path: Path) -> None:
    from edge_agent.drivers.alpha_sign.config import AlphaSignConfig

    door = ZkTerminalConfig(kind="zkteco", name="door", host="127.0.0.1")
    lobby = AlphaSignConfig(kind="alpha_sign", name="lobby", port="/dev/null")
    sink = Outbox(tmp_path / "o.db")
    health = DeviceHealth()
    drivers = build_drivers([door, lobby], sink=sink, health=health, table=TABLE)
    assert set(drivers.runners) == {"door", "lobby"}
    assert set(drivers.signs) == {"lobby"}
    terminal = drivers.runners["door"]
    assert isinstance(terminal, FakeTerminal)
    assert terminal.sink is sink
    assert health.snapshot() == {"door": "unknown", "lobby": "unknown"}


def test_a_missing_driver_module_is_named() -> None:
    table = {
        "zkteco": DriverKind(
            module="edge_agent.drivers.nowhere.driver", class_name="X", takes_sink=True, is_sign=False
        )
    }
    with pytest.raises(DriverUnavailable, match=r"edge_agent\.drivers\.nowhere"):
        driver_class("zkteco", table)
    with pytest.raises(DriverUnavailable, match="toaster"):
        driver_class("toaster", table)


def test_driver_modules_are_imported_only_when_configured() -> None:
    # A fresh interpreter: importing the app and building no drivers imports no driver module.
    probe = (
        "import sys; import edge_agent.app; from edge_agent.device_health import DeviceHealth; "
        "from edge_agent.drivers.registry import build_drivers, DRIVER_KINDS; "
        "build_drivers([], sink=None, health=DeviceHealth()); "
        "print([e.module for e in DRIVER_KINDS.values() if e.module in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
