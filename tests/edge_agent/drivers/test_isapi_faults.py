"""ISAPI driver fault injection over loopback HTTP: a terminal that answers too late, in both modes.

The simulator's ``delay_s`` holds every reply and every alertStream part back. Beyond the driver's
bounds (``timeout_s``, ``stream_idle_timeout_s``) the driver must mark the device down once, back off
with growing gaps, recover once the delays stop, and lose or duplicate no punch. The control uses a
delay inside the bounds: slow, but never down.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Sequence

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.isapi.driver import IsapiFaceDriver
from edge_agent.records import AcceptResult, DeviceRecord
from simulators.isapi_face import IsapiFaceSimulator
from tests.support.polling import async_wait_for

USER, PASSWORD = "admin", "face-pw-1"
NAME = "face-1"
TIMEOUT_S = 0.5  # every request
IDLE_S = 0.8  # alertStream silence; heartbeats come every 0.2 s
HUNG_S = 1.5  # beyond both bounds
SLOW_S = 0.1  # control: slow, but inside both bounds
BACKOFF_S = 0.3
MODES = ["pull", "stream"]


class ListSink:
    """The outbox's contract in memory: durable at once, deduplicated on (device, dedup_key)."""

    def __init__(self) -> None:
        self.records: list[DeviceRecord] = []
        self.duplicates = 0

    async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
        known = {(r.device, r.dedup_key) for r in self.records}
        fresh = [r for r in records if (r.device, r.dedup_key) not in known]
        self.records += fresh
        self.duplicates += len(records) - len(fresh)
        return AcceptResult(stored=len(fresh), duplicates=len(records) - len(fresh))

    def pins(self) -> list[str]:
        return [str(r.data["pin"]) for r in self.records]


def config(sim: IsapiFaceSimulator, mode: str) -> IsapiFaceConfig:
    return IsapiFaceConfig.model_validate(
        {
            "kind": "isapi_face",
            "name": NAME,
            "base_url": sim.url,
            "username": USER,
            "password": PASSWORD,
            "mode": mode,
            "poll_interval_s": 0.2,
            "timeout_s": TIMEOUT_S,
            "stream_idle_timeout_s": IDLE_S,
            "backoff_initial_s": BACKOFF_S,
            "backoff_max_s": 5,
        }
    )


@pytest.fixture
async def sim() -> AsyncIterator[IsapiFaceSimulator]:
    simulator = IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2).start()
    yield simulator
    simulator.delay_s = 0.0
    await asyncio.to_thread(simulator.stop)


async def start(driver: IsapiFaceDriver) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(driver.run(), name="isapi-driver")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def until(condition: bool) -> bool:
    return condition


async def wait_records(sink: ListSink, count: int) -> None:
    await async_wait_for(lambda: until(len(sink.records) >= count), what=f"{count} records in the sink")


async def wait_ready(sim: IsapiFaceSimulator, mode: str, health: DeviceHealth) -> None:
    """Up, and in stream mode following the stream (so a punch now travels by the stream)."""
    await async_wait_for(lambda: until(health.snapshot()[NAME] == "up"), what="device up")
    if mode == "stream":
        await async_wait_for(lambda: until(sim.terminal.subscriber_count() == 1), what="stream open")


def transitions(caplog: pytest.LogCaptureFixture, word: str) -> int:
    return sum(f"device {NAME} is {word}" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", MODES)
async def test_late_replies_mark_down_once_back_off_and_recover_without_loss(
    sim: IsapiFaceSimulator, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device_health")
    sink, health = ListSink(), DeviceHealth()
    sim.punch("1")
    task = await start(IsapiFaceDriver(config(sim, mode), sink, health))
    try:
        await wait_records(sink, 1)
        await wait_ready(sim, mode, health)
        sim.punch("2")
        await wait_records(sink, 2)
        sim.delay_s = HUNG_S
        first = len(sim.request_times)  # every request from here on is answered too late
        sim.punch("3")  # logged by the terminal while it hangs: must arrive once it answers again
        await async_wait_for(lambda: until(health.snapshot()[NAME] == "down"), what="device down")
        await async_wait_for(
            lambda: until(len(sim.request_times) - first >= 3), timeout=15, what="three late attempts"
        )
        assert sink.pins() == ["1", "2"]
        sim.delay_s = 0.0
        await wait_records(sink, 3)
        await wait_ready(sim, mode, health)
        sim.punch("4")
        await wait_records(sink, 4)
    finally:
        await stop(task)
    late = sim.request_times[first : first + 3]
    gaps = [b - a for a, b in itertools.pairwise(late)]
    assert gaps[0] >= TIMEOUT_S, gaps  # each try waits out its timeout ...
    assert gaps[1] > gaps[0], gaps  # ... and then backs off longer than before
    assert (transitions(caplog, "down"), transitions(caplog, "up")) == (1, 2)
    assert "Timeout" in caplog.text  # the logged reason names the timeout
    assert sink.pins() == ["1", "2", "3", "4"]
    assert sink.duplicates == 0


@pytest.mark.parametrize("mode", MODES)
async def test_control_slow_replies_inside_the_bounds_never_mark_down(
    sim: IsapiFaceSimulator, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device_health")
    sink, health = ListSink(), DeviceHealth()
    sim.punch("1")
    task = await start(IsapiFaceDriver(config(sim, mode), sink, health))
    try:
        await wait_records(sink, 1)
        await wait_ready(sim, mode, health)
        sim.delay_s = SLOW_S
        sim.punch("2")
        sim.punch("3")
        await wait_records(sink, 3)
        sim.delay_s = 0.0
        sim.punch("4")
        await wait_records(sink, 4)
    finally:
        await stop(task)
    assert (transitions(caplog, "down"), transitions(caplog, "up")) == (0, 1)
    assert sim.terminal.counters.stream_connects == (1 if mode == "stream" else 0)  # never reopened
    assert sink.pins() == ["1", "2", "3", "4"]
    assert sink.duplicates == 0
