"""open_serial over real ptys: both directions, split reads, and unplug → TransportError."""

from __future__ import annotations

import asyncio
import os
import pty
import tty

import pytest

from edge_agent.transport import TransportError
from edge_agent.transport.serial import open_serial


async def test_reads_and_writes_through_a_pty() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    try:
        stream = await open_serial(os.ttyname(slave), baudrate=9600)
        await stream.write(b"hello")
        assert os.read(master, 100) == b"hello"
        # The write runs only after read() has found nothing and parked on the event loop.
        asyncio.get_running_loop().call_soon(os.write, master, b"\x01Z00")
        assert await asyncio.wait_for(stream.read(), 5) == b"\x01Z00"
        await stream.aclose()
        await stream.aclose()
    finally:
        os.close(slave)
        os.close(master)


async def test_unplug_raises_transport_error_and_the_control_stays_healthy() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    stream = await open_serial(os.ttyname(slave), baudrate=9600)
    os.close(slave)
    os.write(master, b"x")
    assert await asyncio.wait_for(stream.read(), 5) == b"x"  # control: alive while plugged in
    asyncio.get_running_loop().call_soon(os.close, master)  # the cable is pulled while read() waits
    with pytest.raises(TransportError):
        await asyncio.wait_for(stream.read(), 5)
    await stream.aclose()


async def test_opening_a_missing_device_raises_transport_error() -> None:
    with pytest.raises(TransportError):
        await open_serial("/dev/does-not-exist-mpm", baudrate=9600)


async def test_closing_wakes_a_pending_read() -> None:
    master, slave = pty.openpty()
    try:
        stream = await open_serial(os.ttyname(slave), baudrate=9600)
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(stream.aclose()))
        with pytest.raises(TransportError):
            await asyncio.wait_for(stream.read(), 5)
    finally:
        os.close(slave)
        os.close(master)
