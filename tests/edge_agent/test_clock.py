"""Device clock plausibility: the rules as a table, then the ZK driver against a terminal a day ahead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge_agent.clock import ClockIssue, DeviceClock, device_wall_time, reads_close
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zkteco.driver import ZkTerminalDriver
from edge_agent.outbox import running_outbox
from tests.edge_agent.zk_agent_support import (
    DriverTask,
    ack_everything,
    on_sim,
    punch_key,
    punches,
    terminal_log,
    terminal_thread,
    until,
    until_known,
    zk_config,
)

NOW = dt.datetime(2025, 3, 10, 8, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")

# (earlier times fed first, the time judged, the expected verdict)
CASES = [
    pytest.param([], NOW - 5 * M, None, id="a normal time"),
    pytest.param([], NOW + 5 * M, None, id="a few minutes ahead: drift, fine"),
    pytest.param([], NOW + 24 * H, ClockIssue.AHEAD, id="a day ahead"),
    pytest.param([], dt.datetime(2000, 1, 1, tzinfo=dt.UTC), ClockIssue.BEFORE_FLOOR, id="RTC reset"),
    pytest.param([NOW - H], NOW - 2 * H, None, id="an hour back: DST, fine"),
    pytest.param([NOW - H], NOW - 26 * H, ClockIssue.BACKWARDS, id="a day back"),
    pytest.param([NOW + 24 * H], NOW - 5 * M, None, id="a suspect time does not become the reference"),
    pytest.param([NOW - 5 * M, NOW - 26 * H], NOW - 4 * M, None, id="back on track after a jump"),
]


@pytest.mark.parametrize(("earlier", "when", "expected"), CASES)
def test_clock_rules(earlier: list[dt.datetime], when: dt.datetime, expected: ClockIssue | None) -> None:
    clock = DeviceClock()
    for time in earlier:
        clock.judge(time, now=NOW)
    assert clock.judge(when, now=NOW) is expected


def test_device_wall_time_is_naive_local_whole_seconds() -> None:
    local = device_wall_time(SHANGHAI, NOW + dt.timedelta(microseconds=700))
    assert local == dt.datetime(2025, 3, 10, 16, 0)  # noqa: DTZ001 - devices keep naive local time
    assert reads_close(local + dt.timedelta(seconds=2), local)
    assert not reads_close(local + dt.timedelta(seconds=3), local)


@pytest.mark.parametrize("days_ahead", [1, 0], ids=["a day ahead", "control: a normal clock"])
async def test_a_terminal_a_day_ahead_has_its_punches_flagged_and_kept(
    tmp_path: Path, days_ahead: int
) -> None:
    with terminal_thread() as sim:
        model = sim.terminal.model
        on_sim(sim, lambda: model.set_clock(model.now() + dt.timedelta(days=days_ahead)))
        sim.punch("1")
        sim.punch("2")
        earlier = terminal_log(sim)
        async with running_outbox(tmp_path / "outbox.db") as outbox:
            async with DriverTask(ZkTerminalDriver(zk_config(sim.terminal.port), outbox, DeviceHealth())):
                await until_known(outbox, {punch_key(r) for r in earlier}, "the pull stored")
                await until(lambda: sim.registered_clients() == 1, "live events registered")
                # The driver set the terminal's clock on connect: a live punch now has a good time.
                assert reads_close(on_sim(sim, model.now), device_wall_time(SHANGHAI))
                live = sim.punch("3")
                await until_known(outbox, {punch_key(live)}, "the live punch stored")
            stored = punches(await ack_everything(outbox))
    assert [stored[punch_key(r)].clock_suspect for r in earlier] == [days_ahead == 1] * 2
    assert stored[punch_key(live)].clock_suspect is False


async def test_the_terminal_clock_is_set_again_every_sync_interval(tmp_path: Path) -> None:
    with terminal_thread() as sim:
        model = sim.terminal.model
        async with running_outbox(tmp_path / "outbox.db") as outbox:
            config = zk_config(sim.terminal.port, pull_interval_s=0.1)
            driver = ZkTerminalDriver(config, outbox, DeviceHealth(), clock_sync_interval_s=0.3)
            async with DriverTask(driver):
                await until(lambda: driver.online, "the session is up")
                on_sim(sim, lambda: model.set_clock(model.now() - dt.timedelta(hours=3)))  # it drifts
                assert not reads_close(on_sim(sim, model.now), device_wall_time(SHANGHAI))
                await until(
                    lambda: reads_close(on_sim(sim, model.now), device_wall_time(SHANGHAI)), "set again"
                )
