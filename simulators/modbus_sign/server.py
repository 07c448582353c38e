"""Serve a SignModule over Modbus TCP or RTU with pymodbus 3.16 (SimDevice/SimData API).

The pymodbus datastore calls ``action`` before it stores a write; the action applies the write to
the SignModule first (which may reset the control register, so it edits ``set_values`` to match),
then publishes the state. Replies pass through ``Faults.outgoing`` (trace_packet) for fault injection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import tty
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import cast

import serial
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators.modbus_sign.faults import Faults
from simulators.modbus_sign.module import SignModule

WRITE_FUNCTIONS = frozenset({6, 16, 23})
Publisher = Callable[[SignModule], None]


def make_device(unit: int, module: SignModule, faults: Faults, publish: Publisher) -> SimDevice:
    """A pymodbus SimDevice whose holding registers are the module's register image."""

    async def action(
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if delay := faults.take_delay():
            module.counters.faults += 1
            await asyncio.sleep(delay)
        if function_code in WRITE_FUNCTIONS and set_values is not None:
            values = [int(v) for v in set_values]
            module.write(address, values)
            cast(list[int], set_values)[:] = module.registers[address : address + count]
            current[: module.profile.span] = module.registers
            publish(module)
        else:
            module.counters.reads += 1
        return None

    block = SimData(address=0, count=module.profile.span, values=0, datatype=DataType.REGISTERS)
    return SimDevice(id=unit, simdata=[block], action=action)


def reply_tracer(faults: Faults, module: SignModule) -> Callable[[bool, bytes], bytes]:
    def trace(sending: bool, packet: bytes) -> bytes:
        if not sending:
            return packet
        sent = faults.outgoing(packet)
        if sent != packet:
            module.counters.faults += 1
        return sent

    return trace


@contextlib.asynccontextmanager
async def serving_tcp(
    device: SimDevice, host: str, port: int, trace: Callable[[bool, bytes], bytes]
) -> AsyncIterator[None]:
    server = ModbusTcpServer(device, address=(host, port), trace_packet=trace)
    await server.serve_forever(background=True)
    try:
        yield
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]


@contextlib.asynccontextmanager
async def serving_serial(
    device: SimDevice, port: str, baudrate: int, trace: Callable[[bool, bytes], bytes]
) -> AsyncIterator[None]:
    server = ModbusSerialServer(device, port=port, baudrate=baudrate, trace_packet=trace)
    await server.serve_forever(background=True)
    try:
        yield
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def pseudo_terminal(link: Path) -> Iterator[str]:
    """A raw pty whose slave is reachable at ``link``; yields the ``ptyfd://`` URL of its master."""
    if "simulators.modbus_sign" not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append("simulators.modbus_sign")
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    link.unlink(missing_ok=True)
    link.symlink_to(os.ttyname(slave))
    try:
        yield f"ptyfd://{master}"
    finally:
        link.unlink(missing_ok=True)
        os.close(slave)  # kept open until now so the master never reads EIO between clients
        os.close(master)
