"""The Modbus sign simulator: register map behaviour, state/PNG output, fault injection."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from firmware_protocols.modbus_led import (
    DEFAULT_PROFILE,
    PROFILES,
    Command,
    DisplayedRow,
    Status,
    encode_brightness,
    encode_command,
    encode_content,
)
from simulators.modbus_sign.module import SignModule
from tests.simulators.modbus_sign.running import running_sign

ROWS = [DisplayedRow(rank=1, name="张三", points=98), DisplayedRow(rank=2, name="李四", points=-3)]


def test_module_applies_on_version_write_and_obeys_commands() -> None:
    module = SignModule(DEFAULT_PROFILE)
    *content, version = encode_content(DEFAULT_PROFILE, ROWS, title="积分榜", version=4)
    for block in content:
        module.write(block.address, block.registers)
    assert module.showing is None  # staged only
    module.write(version.address, version.registers)
    assert module.showing_lines() == ["积分榜", " 1 张三 98", " 2 李四 -3"]
    assert module.status == Status.SHOWING
    clear = encode_command(DEFAULT_PROFILE, Command.CLEAR)
    module.write(clear.address, clear.registers)
    assert (module.showing_lines(), module.status, module.registers[0]) == ([], Status.BLANK, 0)
    module.write(0, [Command.APPLY])
    assert module.showing_lines()[1] == " 1 张三 98"
    module.write(0, [77])
    assert (module.status, module.counters.bad_commands) == (Status.BAD_COMMAND, 1)


async def _write_plan(client: AsyncModbusTcpClient | AsyncModbusSerialClient, profile_name: str) -> None:
    profile = PROFILES[profile_name]
    plan = (*encode_content(profile, ROWS, title="积分榜", version=7), encode_brightness(profile, 9))
    for block in plan:
        reply = await client.write_registers(block.address, list(block.registers), device_id=1)
        assert not reply.isError()


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_tcp_state_and_png_show_chinese_names(tmp_path: Path, profile: str) -> None:
    with running_sign(tmp_path, profile=profile) as sign:
        assert sign.port is not None
        client = AsyncModbusTcpClient("127.0.0.1", port=sign.port, timeout=2)
        assert await client.connect()
        try:
            await _write_plan(client, profile)
        finally:
            client.close()
        lines = sign.wait_showing("张三")
        state = sign.state()
        assert lines == [" 1 张三 98"]
        assert state["showing"] == ["积分榜", " 1 张三 98", " 2 李四 -3"]
        assert (state["version"], state["brightness"], state["status"]) == (7, 9, "showing")
        assert state["counters"]["applies"] == 1
        with Image.open(sign.png_path) as picture:
            width, height = picture.size
        pitch, margin = 6, 8  # led_faces/dots.py defaults
        assert height == 2 * margin + 3 * 16 * pitch  # three lines of 16 dots
        assert width == 2 * margin + (len(" 1 张三 98") + 2) * 8 * pitch  # the two hanzi are double width


async def test_rtu_on_own_pty(tmp_path: Path) -> None:
    with running_sign(tmp_path, mode="pty") as sign:
        client = AsyncModbusSerialClient(str(sign.link), baudrate=9600, timeout=2)
        assert await client.connect()
        try:
            await _write_plan(client, "mpm-gbk")
            reply = await client.read_holding_registers(40, count=2, device_id=1)
        finally:
            client.close()
        assert reply.registers == [0xD5C5, 0xC8FD]
        sign.wait_showing("李四")


async def _read_fails(client: AsyncModbusTcpClient | AsyncModbusSerialClient) -> bool:
    try:
        reply = await client.read_holding_registers(0, count=2, device_id=1)
    except ModbusException:
        return True
    return bool(reply.isError())


@pytest.mark.parametrize(
    ("mode", "fault"),
    [("pty", "drop"), ("pty", "corrupt"), ("tcp", "drop"), ("tcp", "corrupt"), ("tcp", "delay")],
)
async def test_faults_are_injected_on_demand(tmp_path: Path, mode: str, fault: str) -> None:
    with running_sign(tmp_path, mode=mode) as sign:
        client: AsyncModbusTcpClient | AsyncModbusSerialClient
        if sign.link is not None:
            client = AsyncModbusSerialClient(str(sign.link), baudrate=9600, timeout=0.5, retries=0)
        else:
            client = AsyncModbusTcpClient("127.0.0.1", port=sign.port or 0, timeout=0.5, retries=0)
        assert await client.connect()
        try:
            assert not await _read_fails(client)  # control: nothing armed, the read works
            sign.arm_faults(**({"delay_count": 1, "delay_s": 1.0} if fault == "delay" else {fault: 1}))
            assert await _read_fails(client)
            if not client.connected:
                assert await client.connect()
            assert not await _read_fails(client)  # one fault only
        finally:
            client.close()
