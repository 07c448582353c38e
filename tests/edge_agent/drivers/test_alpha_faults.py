"""Alpha driver fault injection over a real pty: a sign that chatters garbage, a sign that stops reading.

The driver only writes (it never asks the sign anything), so "garbage" is bytes the sign or the line
sends back unasked, and a "timeout" is a write that blocks because the sign stopped taking bytes
(``hold_line`` stops the pty's output, like XOFF or a wedged sign). Each fault test has a control.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.alpha_sign.driver import AlphaSignDriver
from firmware_protocols.sync import RankRow, SignContent
from simulators.alpha_sign import AlphaSignSimulator
from simulators.alpha_sign.link import PtyEndpoint
from tests.support.polling import async_wait_for

CLOCK = dt.datetime(2026, 11, 29, 9, 5, tzinfo=dt.UTC)
NAME = "lobby"
TIMEOUT_S = 0.5
NOISE = b"\x00\xff\x01garbage\x02\x7f\r\n"  # no valid frame: a noisy line or a confused sign


class RecordingHealth(DeviceHealth):
    """The real DeviceHealth, also remembering every up()/down() call (not just the logged transitions)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def up(self, device: str) -> None:
        self.calls.append("up")
        super().up(device)

    def down(self, device: str, reason: str) -> None:
        self.calls.append(f"down: {reason}")
        super().down(device, reason)


def content(points: int) -> SignContent:
    return SignContent(
        sign=NAME, title="TOP 1", period="2026-11", rows=(RankRow(rank=1, name="Ann", points=points),)
    )


def lines(points: int) -> list[str]:
    return ["TOP 1", f"1 Ann{points:>10}"]


@contextlib.contextmanager
def simulator(link: Path) -> Iterator[AlphaSignSimulator]:
    sim = AlphaSignSimulator(PtyEndpoint(link)).start()
    try:
        yield sim
    finally:
        sim.hold_line(False)  # never leave a stopped tty behind
        sim.stop()


@contextlib.asynccontextmanager
async def running(driver: AlphaSignDriver) -> AsyncIterator[None]:
    task = asyncio.create_task(driver.run(), name="alpha-driver")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def config(tmp_path: Path) -> AlphaSignConfig:
    return AlphaSignConfig(
        kind="alpha_sign",
        name=NAME,
        port=str(tmp_path / "ttySign"),
        columns=15,
        rows=1,
        timeout_s=TIMEOUT_S,
        stx_pause_s=0.005,
        reset_pause_s=0.02,
        reconnect_max_s=0.3,
    )


async def shows(sim: AlphaSignSimulator, points: int) -> bool:
    showing: list[str] = sim.state()["showing"]
    return showing[:2] == lines(points)


async def is_up(health: DeviceHealth) -> bool:
    return health.snapshot().get(NAME) == "up"


async def is_down(health: DeviceHealth) -> bool:
    return health.snapshot().get(NAME) == "down"


def transitions(caplog: pytest.LogCaptureFixture, word: str) -> int:
    return sum(f"device {NAME} is {word}" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("chatter", [b"", NOISE], ids=["control", "garbage"])
async def test_garbage_from_the_sign_is_counted_and_content_still_arrives(
    config: AlphaSignConfig, chatter: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device_health")
    health = RecordingHealth()
    driver = AlphaSignDriver(config, health, clock=lambda: CLOCK)
    with simulator(Path(config.port)) as sim:
        sim.device.faults.chatter = chatter  # answers every chunk the driver writes, from the first one
        async with running(driver):
            await driver.show(content(1))
            await async_wait_for(lambda: shows(sim, 1), what="first content")
            await async_wait_for(lambda: is_up(health), what="sign up")
            await driver.show(content(2))
            await async_wait_for(lambda: shows(sim, 2), what="changed content despite the noise")
            if chatter:

                async def counted() -> bool:
                    return health.error_counts()[NAME] > 0

                await async_wait_for(counted, what="garbage counted as errors")
    assert health.calls == ["up"]  # the noise never cost the session
    assert transitions(caplog, "down") == 0
    assert sim.state()["counters"]["checksum_errors"] == 0  # the sign itself got clean frames
    if not chatter:
        assert health.error_counts()[NAME] == 0  # control: no noise, no errors


async def timed_show(driver: AlphaSignDriver, points: int) -> float:
    """``show`` must be time-bound even when the sign does not read; returns how long it took."""
    started = time.monotonic()
    async with asyncio.timeout(TIMEOUT_S + 5):
        await driver.show(content(points))
    return time.monotonic() - started


async def test_a_sign_that_stops_reading_is_marked_down_once_and_recovers(
    config: AlphaSignConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device_health")
    health = RecordingHealth()
    driver = AlphaSignDriver(config, health, clock=lambda: CLOCK)
    with simulator(Path(config.port)) as sim:
        async with running(driver):
            await driver.show(content(1))
            await async_wait_for(lambda: shows(sim, 1), what="first content")
            await async_wait_for(lambda: is_up(health), what="sign up")
            sim.hold_line(True)
            assert TIMEOUT_S * 0.9 <= await timed_show(driver, 2) < TIMEOUT_S + 1.5  # blocked, then gave up
            await async_wait_for(lambda: is_down(health), what="sign marked down")

            async def sessions_failed() -> bool:  # each reopen blocks on its first write and times out
                return sum(c.startswith("down") for c in health.calls) >= 3

            await async_wait_for(sessions_failed, what="three failed sessions while held")
            assert "up" not in health.calls[1:]
            sim.hold_line(False)
            await async_wait_for(lambda: shows(sim, 2), what="content kept and sent after release")
            await async_wait_for(lambda: is_up(health), what="sign up again")
    assert (transitions(caplog, "down"), transitions(caplog, "up")) == (1, 2)
    assert f"device {NAME} is down: write failed: timeout" in caplog.text  # the real reason is logged
    assert health.calls[-2] == "down: write failed: timeout"  # reopened sessions time out too


async def test_control_a_reading_sign_takes_every_show_quickly(
    config: AlphaSignConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device_health")
    health = RecordingHealth()
    driver = AlphaSignDriver(config, health, clock=lambda: CLOCK)
    with simulator(Path(config.port)) as sim:
        async with running(driver):
            await driver.show(content(1))
            await async_wait_for(lambda: shows(sim, 1), what="first content")
            await async_wait_for(lambda: is_up(health), what="sign up")
            assert await timed_show(driver, 2) < TIMEOUT_S * 0.9  # nothing blocks
            await async_wait_for(lambda: shows(sim, 2), what="second content")
    assert health.calls == ["up"]
    assert transitions(caplog, "down") == 0
