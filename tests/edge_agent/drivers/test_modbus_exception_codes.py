"""Modbus exception replies are explained in words (a table of the standard codes), end to end
against a real pymodbus server: a register outside the module's map is "illegal data address"."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from edge_agent.drivers.modbus_led.bus import BusError, ModbusBus
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.modbus_led.exception_codes import EXCEPTION_CODES, explain
from tests.support.network import free_port

MAP_SIZE = 16  # a module whose register map ends at 15


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, "unit 3: illegal function (code 1): the module does not support this request"),
        (2, "unit 3: illegal data address (code 2): registers 40–41 are outside the sign's map — check "
            "`unit`/`profile`"),
        (3, "unit 3: illegal data value (code 3): the module refused a value written to registers 40–41"),
        (6, "unit 3: server device busy (code 6)"),
        (10, "unit 3: gateway path unavailable (code 10): the gateway has no route to unit 3"),
        (11, "unit 3: gateway target device failed to respond (code 11): nothing behind the gateway answers "
             "as unit 3"),
        (99, "unit 3 answered exception code 99 (not a standard Modbus code) for registers 40–41"),
    ],
)  # fmt: skip
def test_each_code_reads_as_a_sentence(code: int, expected: str) -> None:
    assert explain(code, unit=3, address=40, count=2).startswith(expected)


def test_the_table_holds_every_standard_code() -> None:
    assert sorted(EXCEPTION_CODES) == [1, 2, 3, 4, 5, 6, 8, 10, 11]
    assert "ExceptionResponse" not in " ".join(explain(c, unit=1, address=0, count=1) for c in range(12))


@contextlib.asynccontextmanager
async def small_module() -> AsyncIterator[int]:
    port = free_port()
    block = SimData(address=0, count=MAP_SIZE, values=0, datatype=DataType.REGISTERS)
    server = ModbusTcpServer(
        [SimDevice(id=1, simdata=[dataclasses.replace(block)])], address=("127.0.0.1", port)
    )
    await server.serve_forever(background=True)
    try:
        yield port
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]


async def test_a_register_outside_the_map_is_explained_not_dumped() -> None:
    async with small_module() as port:
        config = ModbusLedConfig(kind="modbus_led", name="hall", host="127.0.0.1", tcp_port=port, timeout_s=2)
        bus = ModbusBus(config)
        try:
            assert await bus.read(1, 0, 2) == [0, 0]  # control: inside the map it answers
            with pytest.raises(BusError) as refused:
                await bus.read(1, MAP_SIZE + 4, 1)
            with pytest.raises(BusError) as refused_write:
                await bus.write(1, MAP_SIZE - 1, [1, 2, 3])
        finally:
            bus.close()
    assert str(refused.value) == (
        f"unit 1: illegal data address (code 2): register {MAP_SIZE + 4} is outside the sign's map — "
        "check `unit`/`profile`"
    )
    assert "registers 15–17 are outside the sign's map" in str(refused_write.value)
    assert "ExceptionResponse" not in str(refused.value)
