"""One Modbus line (a serial port or a TCP endpoint): one pymodbus client, one lock.

RS-485 is half-duplex and a serial port opens once, so every module on a line shares one ``ModbusBus``
(``shared_bus``), and each request holds the line's lock and its own deadline. A failed request
closes the client; the next request reconnects (unplug/replug recovers without a restart).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Final

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.modbus_led.exception_codes import explain

ModbusClient = AsyncModbusSerialClient | AsyncModbusTcpClient


class BusError(Exception):
    """A request on the line failed: no connection, timeout, exception reply or bad answer."""


def _new_client(config: ModbusLedConfig) -> ModbusClient:
    # pymodbus retries and reconnects on its own by default; we do both explicitly, once, here.
    if config.port is not None:
        return AsyncModbusSerialClient(
            config.port,
            baudrate=config.baudrate,
            parity=config.parity,
            stopbits=config.stopbits,
            timeout=config.timeout_s,
            retries=0,
            reconnect_delay=0,
        )
    assert config.host is not None
    return AsyncModbusTcpClient(
        config.host, port=config.tcp_port, timeout=config.timeout_s, retries=0, reconnect_delay=0
    )


class ModbusBus:
    def __init__(self, config: ModbusLedConfig) -> None:
        self._config = config
        self._client: ModbusClient | None = None
        self.lock = asyncio.Lock()

    async def write(self, unit: int, address: int, values: Sequence[int]) -> None:
        """FC16 ``values`` at ``address``; raises BusError."""
        await self._request(unit, address, list(values), None)

    async def read(self, unit: int, address: int, count: int) -> list[int]:
        """FC03 ``count`` registers from ``address``; raises BusError."""
        return await self._request(unit, address, None, count)

    async def _request(
        self, unit: int, address: int, values: list[int] | None, count: int | None
    ) -> list[int]:
        async with self.lock:
            try:
                async with asyncio.timeout(2 * self._config.timeout_s):  # connect + one exchange
                    return await self._call(unit, address, values, count)
            except BusError:
                self.close()
                raise
            except (TimeoutError, ModbusException, OSError) as exc:
                self.close()
                raise BusError(f"{type(exc).__name__}: {exc}") from exc

    async def _call(self, unit: int, address: int, values: list[int] | None, count: int | None) -> list[int]:
        client = await self._connected()
        if values is not None:
            reply = await client.write_registers(address, values, device_id=unit)
        else:
            reply = await client.read_holding_registers(address, count=count or 1, device_id=unit)
        if reply.isError():
            code = int(getattr(reply, "exception_code", 0))
            span = len(values) if values is not None else count or 1
            raise BusError(explain(code, unit=unit, address=address, count=span))
        registers: list[int] = list(reply.registers) if values is None else []
        if values is None and len(registers) != count:
            raise BusError(f"asked for {count} registers, got {len(registers)}")
        return registers

    async def _connected(self) -> ModbusClient:
        if self._client is not None and self._client.connected:
            return self._client
        self.close()
        client = _new_client(self._config)
        self._client = client
        if not await client.connect():
            raise BusError("cannot connect")
        return client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


_BUSES: Final[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ModbusBus]]] = (
    weakref.WeakKeyDictionary()
)


def shared_bus(config: ModbusLedConfig) -> ModbusBus:
    """The one ``ModbusBus`` of ``config``'s line in the running event loop."""
    buses = _BUSES.setdefault(asyncio.get_running_loop(), {})
    return buses.setdefault(config.bus_key, ModbusBus(config))
