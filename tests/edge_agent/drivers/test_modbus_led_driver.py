"""ModbusLedDriver against a plain pymodbus server (TCP and pty) and against our simulator."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.modbus_led.driver import ModbusLedDriver
from firmware_protocols.modbus_led import DEFAULT_PROFILE, PROFILES
from firmware_protocols.sync import RankRow, SignContent
from tests.simulators.modbus_sign.running import running_sign, socat_pair
from tests.support.network import free_port
from tests.support.polling import async_wait_for

CONTENT = SignContent(
    sign="hall",
    title="积分榜",
    period="2026-11",
    rows=(RankRow(rank=1, name="张三", points=98), RankRow(rank=2, name="李四", points=-3)),
)


@dataclasses.dataclass
class PlainServer:
    """A pymodbus server with nothing of ours in it, counting what the driver asks."""

    server: ModbusTcpServer | ModbusSerialServer
    writes: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (unit, address)
    reads: int = 0
    refuse_version: bool = False

    async def registers(self, unit: int, address: int, count: int) -> list[int]:
        return [int(v) for v in await self.server.async_getValues(unit, 3, address, count)]


def plain_devices(plain: PlainServer, units: tuple[int, ...], span: int) -> list[SimDevice]:
    def action_for(unit: int) -> Any:
        async def action(
            fc: int, start: int, address: int, count: int, current: list[int], values: object
        ) -> ExcCodes | None:
            if values is None:
                plain.reads += 1
                return None
            if plain.refuse_version and address <= DEFAULT_PROFILE.version < address + count:
                return ExcCodes.DEVICE_BUSY
            plain.writes.append((unit, address))
            return None

        return action

    block = SimData(address=0, count=span, values=0, datatype=DataType.REGISTERS)
    return [SimDevice(id=u, simdata=[dataclasses.replace(block)], action=action_for(u)) for u in units]


@contextlib.asynccontextmanager
async def plain_tcp_server(units: tuple[int, ...] = (1,)) -> AsyncIterator[tuple[PlainServer, int]]:
    port = free_port()
    plain = PlainServer(server=ModbusTcpServer([], address=("127.0.0.1", port)))
    plain.server = ModbusTcpServer(
        plain_devices(plain, units, DEFAULT_PROFILE.span), address=("127.0.0.1", port)
    )
    await plain.server.serve_forever(background=True)
    try:
        yield plain, port
    finally:
        await plain.server.shutdown()  # type: ignore[no-untyped-call]


@contextlib.asynccontextmanager
async def plain_serial_server(device: Path, units: tuple[int, ...]) -> AsyncIterator[PlainServer]:
    plain = PlainServer(server=ModbusSerialServer([], port=str(device)))
    plain.server = ModbusSerialServer(
        plain_devices(plain, units, DEFAULT_PROFILE.span), port=str(device), baudrate=9600
    )
    await plain.server.serve_forever(background=True)
    try:
        yield plain
    finally:
        await plain.server.shutdown()  # type: ignore[no-untyped-call]


@contextlib.asynccontextmanager
async def running(driver: ModbusLedDriver) -> AsyncIterator[ModbusLedDriver]:
    task = asyncio.create_task(driver.run(), name=f"driver {driver.config.name}")
    try:
        yield driver
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def tcp_config(port: int, **extra: Any) -> ModbusLedConfig:
    return ModbusLedConfig(
        kind="modbus_led", name="hall", host="127.0.0.1", tcp_port=port, timeout_s=0.5, **extra
    )


async def until(probe: Callable[[], object], what: str, limit: float = 10) -> None:
    """Wait (polling, with a deadline) until ``probe()`` is truthy."""

    async def check() -> bool:
        return bool(probe())

    await async_wait_for(check, timeout=limit, what=what)


async def test_driver_writes_chinese_rows_to_a_plain_pymodbus_server_over_tcp() -> None:
    health = DeviceHealth()
    async with (
        plain_tcp_server() as (plain, port),
        running(ModbusLedDriver(tcp_config(port), health)) as driver,
    ):
        await driver.show(CONTENT)
        await until(lambda: driver.shown == CONTENT, "driver confirms")
        assert await plain.registers(1, 40, 2) == [0xD5C5, 0xC8FD]  # 张三 in GBK
        assert await plain.registers(1, 56, 2) == [0xC0EE, 0xCBC4]  # 李四
        assert await plain.registers(1, 200, 4) == [0, 98, 0xFFFF, 0xFFFD]
        assert await plain.registers(1, 5, 3) == [2, 0, 1]  # two rows, version 1
        assert plain.writes[-1] == (1, DEFAULT_PROFILE.version)  # the version is written last
        assert health.snapshot()["hall"] == "up"


async def test_unchanged_content_is_not_written_again() -> None:
    health = DeviceHealth()
    async with (
        plain_tcp_server() as (plain, port),
        running(ModbusLedDriver(tcp_config(port, poll_s=0.05), health)) as driver,
    ):
        await driver.show(CONTENT)
        await until(lambda: driver.shown == CONTENT, "first push")
        writes = len(plain.writes)
        await driver.show(CONTENT)
        reads = plain.reads
        await until(lambda: plain.reads >= reads + 3, "idle polls")
        assert len(plain.writes) == writes
        changed = dataclasses.replace(CONTENT, rows=CONTENT.rows[:1])
        await driver.show(changed)
        await until(lambda: driver.shown == changed, "second push")
        assert len(plain.writes) > writes  # control: a change is written
        assert await plain.registers(1, 5, 3) == [1, 0, 2]


async def test_two_modules_on_one_rs485_line_over_a_pty(tmp_path: Path) -> None:
    health = DeviceHealth()
    with socat_pair(tmp_path) as (a, b):
        async with plain_serial_server(b, (1, 2)) as plain:
            configs = [
                ModbusLedConfig(kind="modbus_led", name=f"sign{u}", port=str(a), unit=u, timeout_s=1)
                for u in (1, 2)
            ]
            other = dataclasses.replace(CONTENT, rows=(RankRow(rank=1, name="王五", points=7),))
            drivers = [ModbusLedDriver(c, health) for c in configs]
            async with running(drivers[0]), running(drivers[1]):
                await drivers[0].show(CONTENT)
                await drivers[1].show(other)
                await until(lambda: drivers[0].shown == CONTENT and drivers[1].shown == other, "both")
            assert await plain.registers(1, 40, 2) == [0xD5C5, 0xC8FD]
            assert await plain.registers(2, 40, 2) == [0xCDF5, 0xCEE5]  # 王五
            assert {u for u, _ in plain.writes} == {1, 2}
    assert health.snapshot() == {"sign1": "up", "sign2": "up"}


async def test_unconfirmed_version_marks_the_module_down_then_recovers() -> None:
    health = DeviceHealth()
    async with plain_tcp_server() as (plain, port):
        plain.refuse_version = True
        async with running(ModbusLedDriver(tcp_config(port), health)) as driver:
            await driver.show(CONTENT)
            await until(lambda: health.snapshot()["hall"] == "down", "down")
            assert driver.shown is None
            plain.refuse_version = False
            await until(lambda: driver.shown == CONTENT, "recovered", limit=15)
            assert health.snapshot()["hall"] == "up"


async def test_driver_against_the_simulator_survives_a_restart(tmp_path: Path) -> None:
    health = DeviceHealth()
    port = free_port()
    config = tcp_config(port, poll_s=0.1)
    with running_sign(tmp_path, port=port) as sign:
        async with running(ModbusLedDriver(config, health)) as driver:
            await driver.show(CONTENT)
            await until(lambda: driver.shown == CONTENT, "simulator confirms")
            assert sign.showing() == ["积分榜 2026-11", " 1 张三 98", " 2 李四 -3"]
            sign.process.terminate()
            sign.process.wait(timeout=10)
            await until(lambda: health.snapshot()["hall"] == "down", "down after unplug")
            with running_sign(tmp_path, port=port) as replugged:
                await until(lambda: " 1 张三 98" in replugged.showing(), "re-sent after replug", limit=20)
                await until(lambda: health.snapshot()["hall"] == "up", "up after replug")


@pytest.mark.parametrize(
    "fields",
    [{}, {"port": "/dev/ttyUSB0", "host": "10.0.0.5"}, {"host": "10.0.0.5", "profile": "nope"}],
)
def test_config_needs_exactly_one_transport_and_a_known_profile(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ModbusLedConfig(kind="modbus_led", name="x", **fields)


def test_config_accepts_rtu_and_tcp() -> None:
    rtu = ModbusLedConfig(kind="modbus_led", name="a", port="/dev/ttyUSB0", unit=3, profile="wide-utf16")
    tcp = ModbusLedConfig(kind="modbus_led", name="b", host="10.0.0.5")
    assert (rtu.bus_key, tcp.bus_key) == ("rtu:/dev/ttyUSB0", "tcp:10.0.0.5:502")
    assert set(PROFILES) >= {rtu.profile, tcp.profile}


async def test_free_text_lines_are_written_as_row_texts() -> None:
    lines = SignContent(
        sign="hall", title="通知", period="", rows=(), kind="announcement", lines=("今天停电", "Bring ID")
    )
    health = DeviceHealth()
    async with (
        plain_tcp_server() as (plain, port),
        running(ModbusLedDriver(tcp_config(port), health)) as driver,
    ):
        await driver.show(lines)
        await until(lambda: driver.shown == lines, "driver confirms the lines")
        assert await plain.registers(1, 40, 2) == [0xBDF1, 0xCCEC]  # 今天 in GBK
        assert await plain.registers(1, 56, 2) == [0x4272, 0x696E]  # "Brin"
        assert await plain.registers(1, 32, 2) == [0, 0]  # no ranks in front of text lines
        assert await plain.registers(1, 5, 1) == [2]  # two row slots in use
