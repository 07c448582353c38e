"""The asyncio 4370 client against the real simulator over loopback TCP and UDP."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from edge_agent.drivers.zkteco.client import Transport, ZkClient
from edge_agent.drivers.zkteco.errors import DeviceError
from firmware_protocols.zkteco import UserRecord
from simulators.zk_terminal import ZkTerminal
from tests.support.network import free_port

pytestmark = pytest.mark.parametrize("transport", ["tcp", "udp"])


@pytest.fixture
async def terminal() -> AsyncIterator[ZkTerminal]:
    async with ZkTerminal(
        port=free_port(), comm_key=12345, records=2000, serial_number="SIMCLIENT01"
    ) as running:
        yield running


async def _connected(
    terminal: ZkTerminal, transport: Transport, comm_key: int = 12345, request_timeout_s: float = 2
) -> ZkClient:
    client = await ZkClient.open(
        "127.0.0.1", terminal.port, transport=transport, request_timeout_s=request_timeout_s
    )
    await client.connect(comm_key)
    return client


async def test_reads_identity_users_and_the_whole_log(terminal: ZkTerminal, transport: Transport) -> None:
    async with await _connected(terminal, transport) as client:
        assert await client.serial_number() == "SIMCLIENT01"
        users = await client.users()
        assert [(u.user_id, u.name) for u in users] == [(u.user_id, u.name) for u in terminal.model.users]
        assert await client.attendance() == terminal.model.log
        assert (await client.free_sizes()).records == 2000
    assert terminal.bad_checksums == 0


async def test_writes_users_time_and_clears_the_log(terminal: ZkTerminal, transport: Transport) -> None:
    async with await _connected(terminal, transport) as client:
        await client.set_user(UserRecord(uid=77, user_id="7777", name="周八", card=5))
        await client.delete_user(2)
        pins = {u.user_id: u.name for u in await client.users()}
        assert pins["7777"] == "周八"
        assert "2" not in pins
        when = dt.datetime(2024, 5, 6, 8, 59)  # noqa: DTZ001 - device local time
        await client.set_time(when)
        assert dt.timedelta(0) <= await client.get_time() - when <= dt.timedelta(seconds=2)
        await client.disable()
        await client.enable()
        await client.clear_attendance()
        assert await client.attendance() == []


async def test_receives_live_events(terminal: ZkTerminal, transport: Transport) -> None:
    async with await _connected(terminal, transport) as client:
        await client.register_events()
        record = await terminal.punch("3", state=1, verify=2)
        async with asyncio.timeout(5):
            event = await client.next_event()
        assert (event.user_id, event.verify, event.state, event.time) == ("3", 2, 1, record.time)
        assert await client.get_time()  # requests still work after an event


async def test_wrong_comm_key_is_a_device_error(terminal: ZkTerminal, transport: Transport) -> None:
    client = await ZkClient.open("127.0.0.1", terminal.port, transport=transport, request_timeout_s=2)
    async with client:
        with pytest.raises(DeviceError, match="ACK_UNAUTH"):
            await client.connect(1)


async def test_corrupt_and_dropped_replies_become_device_errors(
    terminal: ZkTerminal, transport: Transport
) -> None:
    async with await _connected(terminal, transport) as client:
        assert await client.get_time()  # control: the same request works while no fault is armed
        terminal.inject_fault("corrupt", 1)
        with pytest.raises(DeviceError, match="checksum"):
            await client.get_time()
    async with await _connected(terminal, transport, request_timeout_s=0.3) as client:
        terminal.inject_fault("drop", 1)
        with pytest.raises(DeviceError, match="timeout"):
            await client.get_time()
    assert terminal.faults.applied == 2


async def _connect_to_nobody(transport: Transport) -> None:
    client = await ZkClient.open("127.0.0.1", free_port(), transport=transport, request_timeout_s=1)
    async with client:
        await client.connect()


async def test_unreachable_terminal_is_a_device_error(transport: Transport) -> None:
    with pytest.raises(DeviceError):  # TCP: refused at open; UDP: port unreachable at connect
        await _connect_to_nobody(transport)
