"""Both simulated signs behind their real drivers, for programme tests (pty and Modbus TCP)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.alpha_sign.driver import AlphaSignDriver
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.modbus_led.driver import ModbusLedDriver
from firmware_protocols.sync import RankRow, SignContent
from simulators.alpha_sign import AlphaSignSimulator
from simulators.alpha_sign.link import PtyEndpoint
from tests.simulators.modbus_sign.running import RunningSign, running_sign
from tests.support.polling import async_wait_for

NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin")


def ranking(*points: int, sign: str = "lobby", title: str = "TOP") -> SignContent:
    rows = tuple(
        RankRow(rank=i + 1, name=n, points=p) for i, (n, p) in enumerate(zip(NAMES, points, strict=False))
    )
    return SignContent(sign=sign, title=title, period="2026-12", rows=rows)


def alpha_config(tmp: Path, name: str = "lobby", **extra: Any) -> AlphaSignConfig:
    return AlphaSignConfig(
        kind="alpha_sign",
        name=name,
        port=str(tmp / f"tty-{name}"),
        columns=16,
        rows=5,
        timeout_s=2,
        stx_pause_s=0.002,
        reset_pause_s=0.01,
        reconnect_max_s=0.3,
        **extra,
    )


def modbus_config(port: int, name: str = "hall") -> ModbusLedConfig:
    return ModbusLedConfig(
        kind="modbus_led", name=name, host="127.0.0.1", tcp_port=port, timeout_s=0.5, poll_s=0.2
    )


@dataclasses.dataclass
class Signs:
    alpha: AlphaSignDriver
    alpha_sim: AlphaSignSimulator
    modbus: ModbusLedDriver
    modbus_sim: RunningSign


@contextlib.asynccontextmanager
async def running_task(run: Callable[[], Awaitable[None]], name: str) -> AsyncIterator[None]:
    task = asyncio.ensure_future(run())
    task.set_name(name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def both_signs(tmp: Path, clock: Callable[[], dt.datetime]) -> AsyncIterator[Signs]:
    """An Alpha sign simulator on a pty and a Modbus sign simulator on TCP, each behind its driver."""
    config = alpha_config(tmp)
    alpha_sim = AlphaSignSimulator(PtyEndpoint(Path(config.port))).start()
    try:
        with running_sign(tmp) as modbus_sim:
            assert modbus_sim.port is not None
            health = DeviceHealth()
            alpha = AlphaSignDriver(config, health, clock=clock)
            modbus = ModbusLedDriver(modbus_config(modbus_sim.port), health)
            async with running_task(alpha.run, "alpha"), running_task(modbus.run, "modbus"):
                yield Signs(alpha=alpha, alpha_sim=alpha_sim, modbus=modbus, modbus_sim=modbus_sim)
    finally:
        alpha_sim.stop()


async def until(probe: Callable[[], Any], what: str, limit: float = 15) -> Any:
    """Poll ``probe()`` (with a deadline) until it is truthy; returns its value."""

    async def check() -> Any:
        return probe()

    return await async_wait_for(check, timeout=limit, what=what)
