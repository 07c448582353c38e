"""The Alpha driver against the sign simulator over a real pty: show, diff, unplug/replug."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.alpha_sign.driver import AlphaSignDriver
from firmware_protocols.sync import RankRow, SignContent
from simulators.alpha_sign import AlphaSignSimulator
from simulators.alpha_sign.link import PtyEndpoint
from tests.support.polling import async_wait_for

CLOCK = dt.datetime(2026, 11, 29, 9, 5, tzinfo=dt.UTC)  # a Sunday


def content(*points: int, title: str = "TOP 3") -> SignContent:
    names = ["Alice", "Bob", "Carol"]
    rows = tuple(
        RankRow(rank=i + 1, name=n, points=p) for i, (n, p) in enumerate(zip(names, points, strict=False))
    )
    return SignContent(sign="lobby", title=title, period="2026-11", rows=rows)


@contextlib.contextmanager
def simulator(link: Path) -> Iterator[AlphaSignSimulator]:
    sim = AlphaSignSimulator(PtyEndpoint(link)).start()
    try:
        yield sim
    finally:
        sim.stop()


@contextlib.asynccontextmanager
async def running(driver: AlphaSignDriver) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(driver.run(), name="alpha-driver")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def config(tmp_path: Path) -> AlphaSignConfig:
    return AlphaSignConfig(
        kind="alpha_sign",
        name="lobby",
        port=str(tmp_path / "ttySign"),
        columns=15,
        rows=3,
        timeout_s=2,
        stx_pause_s=0.005,
        reset_pause_s=0.02,
        reconnect_max_s=0.3,
    )


async def showing(sim: AlphaSignSimulator, lines: list[str]) -> dict[str, Any] | None:
    state = sim.state()
    return state if state["showing"] == lines else None


async def is_up(health: DeviceHealth, name: str) -> bool:
    """The driver marks the sign up after its writes return, which may be after the sign shows them."""
    return health.snapshot().get(name) == "up"


async def test_content_shows_and_a_changed_row_sends_only_its_string(config: AlphaSignConfig) -> None:
    health = DeviceHealth()
    driver = AlphaSignDriver(config, health, clock=lambda: CLOCK)
    with simulator(Path(config.port)) as sim:
        async with running(driver):
            await driver.show(content(42, 17))
            expected = ["TOP 3", "1 Alice      42", "2 Bob        17", ""]
            state = await async_wait_for(lambda: showing(sim, expected), what="first content")
            assert (state["time"], state["date"], state["day_of_week"]) == ("09:05", "11/29/26", 1)
            await async_wait_for(lambda: is_up(health, "lobby"), what="sign marked up")
            before = len(state["log"])
            await driver.show(content(42, 18))
            expected[2] = "2 Bob        18"
            state = await async_wait_for(lambda: showing(sim, expected), what="second content")
            new = state["log"][before:]
            assert [(e["command"], e["label"], e["checksum"]) for e in new] == [("WriteString", "2", True)]
            assert state["counters"]["checksum_errors"] == 0


async def test_content_shown_while_unplugged_is_sent_on_connect(config: AlphaSignConfig) -> None:
    driver = AlphaSignDriver(config, DeviceHealth(), clock=lambda: CLOCK)
    async with running(driver):
        await driver.show(content(7))  # no sign on the line yet: kept, never raises
        with simulator(Path(config.port)) as sim:
            await async_wait_for(lambda: showing(sim, ["TOP 3", "1 Alice       7", "", ""]), what="late show")


async def test_unplug_marks_down_and_replug_resends_everything(config: AlphaSignConfig) -> None:
    health = DeviceHealth()
    driver = AlphaSignDriver(config, health, clock=lambda: CLOCK)
    async with running(driver):
        await driver.show(content(1, 2, 3))
        expected = ["TOP 3", "1 Alice       1", "2 Bob         2", "3 Carol       3"]
        with simulator(Path(config.port)) as sim:
            await async_wait_for(lambda: showing(sim, expected), what="before unplug")

        async def is_down() -> bool:
            return health.snapshot()["lobby"] == "down"

        await async_wait_for(is_down, what="driver notices the unplug")
        with simulator(Path(config.port)) as fresh:  # a new, empty sign on the same link
            await async_wait_for(lambda: showing(fresh, expected), what="re-sent after replug")
            assert fresh.state()["memory_configuration"][0]["label"] == "A"
            await async_wait_for(lambda: is_up(health, "lobby"), what="sign marked up again")


async def test_a_chinese_name_reaches_the_sign_as_a_picture(config: AlphaSignConfig) -> None:
    driver = AlphaSignDriver(config, DeviceHealth(), clock=lambda: CLOCK)
    rows = (RankRow(rank=1, name="张三", points=42), RankRow(rank=2, name="Bob", points=17))
    with simulator(Path(config.port)) as sim:
        async with running(driver):
            await driver.show(SignContent(sign="lobby", title="TOP 3", period="p", rows=rows))
            expected = ["TOP 3", "[dots B]", "2 Bob        17", ""]
            state = await async_wait_for(lambda: showing(sim, expected), what="picture row")
            picture = state["pictures"]["B"]
            assert (picture["height"], picture["width"]) == (16, 120)
            assert state["ignored_writes"] == 0
