"""Third-party Modbus masters against ``mpm-sim modbus-sign``: mbpoll (libmodbus) and pymodbus.

mbpoll comes from Debian (``apt-get install -y mbpoll``); socat too. Register values are our map's
(firmware_protocols/modbus_led/REGISTERS.md): 张三 in GBK is 0xD5C5 0xC8FD at row 0 (register 40).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

from firmware_protocols.modbus_led import DEFAULT_PROFILE, DisplayedRow, encode_content
from tests.simulators.modbus_sign.running import RunningSign, running_sign, socat_pair

ZHANG_SAN = ["0xD5C5", "0xC8FD"]


def mbpoll(*args: str) -> str:
    binary = shutil.which("mbpoll")
    assert binary, "mbpoll is required: apt-get install -y mbpoll"
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def mbpoll_target(sign: RunningSign, device: Path | None) -> list[str]:
    if sign.port is not None:
        return ["-m", "tcp", "-p", str(sign.port), "127.0.0.1"]
    return ["-m", "rtu", "-b", "9600", "-P", "none", str(device or sign.link)]


def write_and_read_back(sign: RunningSign, device: Path | None = None) -> None:
    """mbpoll writes a Chinese name, points and a commit, then reads them back (FC16 + FC03)."""
    *options, where = mbpoll_target(sign, device)
    common = [*options, "-a", "1", "-t", "4", "-0", "-1"]
    mbpoll(*common, "-q", "-r", "40", where, *ZHANG_SAN)  # row 0 text
    mbpoll(*common, "-q", "-r", "200", where, "0", "88")  # row 0 points (int32, high word first)
    mbpoll(*common, "-q", "-r", "32", where, "1")  # rank 1
    mbpoll(*common, "-q", "-r", "5", where, "1", "0", "5")  # one row; version 5 written last
    shown = mbpoll(*common, "-r", "40", "-c", "2", where)
    assert re.findall(r"\[(\d+)\]:\s+(\d+)", shown) == [("40", str(0xD5C5)), ("41", str(0xC8FD))]
    assert sign.wait_showing("张三") == [" 1 张三 88"]
    assert sign.state()["version"] == 5


@contextmanager
def sign_on(tmp_path: Path, wiring: str) -> Iterator[tuple[RunningSign, Path | None]]:
    if wiring == "socat":
        with socat_pair(tmp_path) as (a, b), running_sign(tmp_path, mode="serial", serial=b) as sign:
            yield sign, a
    else:
        with running_sign(tmp_path, mode=wiring) as sign:
            yield sign, None


@pytest.mark.parametrize("wiring", ["tcp", "pty", "socat"])
def test_mbpoll_writes_and_reads_back(tmp_path: Path, wiring: str) -> None:
    with sign_on(tmp_path, wiring) as (sign, device):
        write_and_read_back(sign, device)


@pytest.mark.parametrize("wiring", ["tcp", "pty"])
async def test_pymodbus_client_writes_a_plan_and_reads_back(tmp_path: Path, wiring: str) -> None:
    rows = [DisplayedRow(rank=1, name="王小明", points=120)]
    with running_sign(tmp_path, mode=wiring) as sign:
        client: AsyncModbusTcpClient | AsyncModbusSerialClient
        if sign.port is not None:
            client = AsyncModbusTcpClient("127.0.0.1", port=sign.port, timeout=2)
        else:
            client = AsyncModbusSerialClient(str(sign.link), baudrate=9600, timeout=2)
        assert await client.connect()
        try:
            for block in encode_content(DEFAULT_PROFILE, rows, title="本月积分", version=3):
                assert not (
                    await client.write_registers(block.address, list(block.registers), device_id=1)
                ).isError()
            version = await client.read_holding_registers(DEFAULT_PROFILE.version, count=2, device_id=1)
            status = await client.read_holding_registers(DEFAULT_PROFILE.status, count=1, device_id=1)
        finally:
            client.close()
        assert version.registers == [0, 3]
        assert status.registers == [1]  # Status.SHOWING
        assert sign.wait_showing("王小明") == [" 1 王小明 120"]
        assert sign.state()["title"] == "本月积分"
