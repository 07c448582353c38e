"""Clock plausibility on ADMS and ISAPI: a terminal clock a day ahead (or reset) flags its punches.

Both drivers run against their real simulators over loopback HTTP; every punch is kept, only
``Punch.clock_suspect`` tells the good times from the bad ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.isapi.driver import IsapiFaceDriver
from firmware_protocols.isapi.messages import AcsEventRecord
from firmware_protocols.sync import EventKind, Punch
from simulators.isapi_face import IsapiFaceSimulator
from simulators.isapi_face.terminal import DEVICE_TZ
from simulators.zk_push import PushTerminal
from tests.edge_agent.drivers.zk_push_support import SN, MemorySink, running_driver
from tests.support.polling import async_wait_for

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DAY = dt.timedelta(days=1)
USER, PASSWORD = "admin", "face-pw-1"


def flags(sink: MemorySink) -> list[tuple[str, bool]]:
    """(PIN, clock_suspect) of every punch, in arrival order."""
    punches = [Punch.from_data(e.data) for e in sink.events if e.kind is EventKind.PUNCH]
    return [(p.pin, p.clock_suspect) for p in punches]


# -- ADMS ---------------------------------------------------------------------------------------


async def test_adms_terminal_a_day_ahead_gives_clock_suspect_punches() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN)
        now = dt.datetime.now(SHANGHAI)
        terminal.punch("1001", at=now)  # control: a correct clock
        terminal.punch("1002", at=now + DAY)
        terminal.punch("1003", at=now)  # good again: the bad time did not move the clock's reference
        await asyncio.to_thread(terminal.sync_once)
        assert flags(run.sink) == [("1001", False), ("1002", True), ("1003", False)]
        assert run.driver.metrics["clock_suspect_punches"] == 1
        assert terminal.memory.unsent() == []  # all kept and acknowledged


async def test_adms_terminal_with_a_reset_clock_gives_clock_suspect_punches() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN)
        terminal.punch("1001", at=dt.datetime(2000, 1, 1, 0, 5, tzinfo=SHANGHAI))  # flat RTC battery
        await asyncio.to_thread(terminal.sync_once)
        assert flags(run.sink) == [("1001", True)]


async def test_adms_terminal_with_a_correct_clock_gives_no_suspect_punch() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN)
        for pin in ("1001", "1002"):
            terminal.punch(pin)
        await asyncio.to_thread(terminal.sync_once)
        assert flags(run.sink) == [("1001", False), ("1002", False)]
        assert run.driver.metrics["clock_suspect_punches"] == 0


# -- ISAPI --------------------------------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[IsapiFaceSimulator]:
    simulator = IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2).start()
    yield simulator
    await asyncio.to_thread(simulator.stop)


def face_config(sim: IsapiFaceSimulator, mode: str) -> IsapiFaceConfig:
    return IsapiFaceConfig.model_validate(
        {"kind": "isapi_face", "name": "face-1", "base_url": sim.url, "username": USER, "password": PASSWORD,
         "mode": mode, "poll_interval_s": 0.2, "timeout_s": 2, "stream_idle_timeout_s": 2,
         "backoff_initial_s": 0.2, "backoff_max_s": 2}
    )  # fmt: skip


def punch_with_clock_offset(sim: IsapiFaceSimulator, employee_no: str, offset: dt.timedelta) -> None:
    """An access event stamped by a terminal clock ``offset`` off (the simulator's own clock is right)."""

    def record() -> None:
        terminal = sim.terminal
        at = dt.datetime.now(DEVICE_TZ).replace(microsecond=0) + offset
        event = AcsEventRecord(
            major=5,
            minor=75,
            time=at.isoformat(),
            serial_no=terminal.next_serial,
            employee_id=employee_no,
            verify_mode="face",
            attendance_status="checkIn",
        )
        terminal.next_serial += 1
        terminal.events.append((event, None))

    sim.terminal.locked(record)


async def isapi_flags(sim: IsapiFaceSimulator, count: int) -> tuple[list[tuple[str, bool]], IsapiFaceDriver]:
    """Run the driver in pull mode until ``count`` punches arrived; their flags."""
    sink = MemorySink()
    driver = IsapiFaceDriver(face_config(sim, "pull"), sink, DeviceHealth())
    task = asyncio.create_task(driver.run(), name="isapi")
    try:

        async def arrived() -> bool:
            return len(sink.events) >= count

        await async_wait_for(arrived, what=f"{count} punches")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return flags(sink), driver


async def test_isapi_terminal_a_day_ahead_gives_clock_suspect_punches(sim: IsapiFaceSimulator) -> None:
    sim.punch("2001")  # control: the terminal's own (correct) clock
    punch_with_clock_offset(sim, "2002", DAY)
    sim.punch("2003")
    got, driver = await isapi_flags(sim, 3)
    assert got == [("2001", False), ("2002", True), ("2003", False)]
    assert driver.metrics.clock_suspect == 1


async def test_isapi_terminal_with_a_correct_clock_gives_no_suspect_punch(sim: IsapiFaceSimulator) -> None:
    sim.punch("2001")
    punch_with_clock_offset(sim, "2002", dt.timedelta(minutes=-5))  # a little slow: plausible
    got, driver = await isapi_flags(sim, 2)
    assert got == [("2001", False), ("2002", False)]
    assert driver.metrics.clock_suspect == 0


async def test_isapi_stream_flags_a_live_punch_from_a_clock_a_day_ahead(sim: IsapiFaceSimulator) -> None:
    sink = MemorySink()
    driver = IsapiFaceDriver(face_config(sim, "stream"), sink, DeviceHealth())
    task = asyncio.create_task(driver.run(), name="isapi")
    try:
        sim.punch("2001")

        async def arrived() -> bool:
            return len(sink.events) >= 1 and sim.terminal.subscriber_count() > 0

        await async_wait_for(arrived, what="the first punch and an open alertStream")
        punch_with_clock_offset(sim, "2002", DAY)
        sim.punch("2003")  # published live; its serialNo gap makes the driver pull the one before

        async def all_three() -> bool:
            return len(sink.events) >= 3

        await async_wait_for(all_three, what="three punches")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert flags(sink) == [("2001", False), ("2002", True), ("2003", False)]
