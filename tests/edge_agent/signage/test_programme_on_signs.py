"""The programme on both simulated signs behind their real drivers, driven by an injected clock.

Time never passes by waiting: each step calls ``tick(now)`` with the instant under test, then polls
the simulators' state (with a deadline) for the result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edge_agent.signage import NightWindow, PlaylistItem, SignProgramme, SignProgrammeConfig
from tests.edge_agent.signage.support import Signs, both_signs, ranking, until

SITE = "Asia/Shanghai"
NIGHT_START = dt.datetime(2026, 12, 3, 14, 0, tzinfo=dt.UTC)  # 22:00 on the site's wall
ROTATION = SignProgrammeConfig(
    time_zone=SITE,
    playlist=(PlaylistItem(kind="cloud", dwell_s=10), PlaylistItem(kind="clock", dwell_s=10)),
)


def programmes(signs: Signs, config: SignProgrammeConfig, modbus: SignProgrammeConfig) -> list[SignProgramme]:
    now = lambda: NIGHT_START  # noqa: E731 - the programmes' own clock is never read by tick(now)
    return [
        SignProgramme("lobby", signs.alpha, config, clock=now, title_width=16),
        SignProgramme("hall", signs.modbus, modbus, clock=now, title_width=16),
    ]


def alpha_lines(signs: Signs) -> list[str]:
    """The Alpha sign's lines, padded with empty ones (a blank sign shows none)."""
    lines: list[str] = signs.alpha_sim.state()["showing"]
    return lines + [""] * (8 - len(lines))


def modbus_at(signs: Signs, brightness: int) -> bool:
    """The Modbus sign shows the ranking at ``brightness``."""
    state = signs.modbus_sim.state()
    return state.get("brightness") == brightness and " 1 Alice 42" in state.get("showing", [])


async def test_playlist_rotates_ranking_and_live_clock_on_both_signs(tmp_path: Path) -> None:
    start = NIGHT_START - dt.timedelta(hours=2)  # 20:00 site time, a multiple of the 20 s cycle
    assert int(start.timestamp()) % 20 == 0
    async with both_signs(tmp_path, clock=lambda: start) as signs:
        lobby, hall = programmes(signs, ROTATION, ROTATION)
        await lobby.show(ranking(42, 17))
        await hall.show(ranking(42, 17, sign="hall"))

        for programme in (lobby, hall):
            await programme.tick(start)
            assert programme.next_change(start) == start + dt.timedelta(seconds=10)
        await until(
            lambda: alpha_lines(signs)[:3] == ["TOP", "1 Alice       42", "2 Bob         17"], "Alpha: rank"
        )
        await until(lambda: " 1 Alice 42" in signs.modbus_sim.showing(), "Modbus: ranking")

        clock_time = start + dt.timedelta(seconds=10)
        for programme in (lobby, hall):
            await programme.tick(clock_time - dt.timedelta(seconds=1))  # control: still the ranking
            assert programme.pushed is not None
            assert programme.pushed.content.kind == "ranking"
            await programme.tick(clock_time)
        # Both show the sign's OWN clock, set by the programme to the site's wall time (20:00).
        await until(lambda: alpha_lines(signs)[:2] == ["", "20:00"], "Alpha: its own clock")
        await until(lambda: signs.modbus_sim.showing() == ["2026-12-03 20:00"], "Modbus: its own clock")
        assert signs.alpha_sim.state()["time"] == "20:00"
        assert signs.modbus_sim.state()["clock"].startswith("2026-12-03 20:0")

        back = start + dt.timedelta(seconds=20)
        for programme in (lobby, hall):
            await programme.tick(back)
        await until(lambda: alpha_lines(signs)[1] == "1 Alice       42", "Alpha: ranking again")
        await until(lambda: " 2 Bob 17" in signs.modbus_sim.showing(), "Modbus: ranking again")


async def test_night_mode_switches_at_the_scheduled_minute(tmp_path: Path) -> None:
    night = NightWindow(start="0 22 * * *", end="30 6 * * *", mode="dark")
    dim = NightWindow(start="0 22 * * *", end="30 6 * * *", mode="dim", brightness=2)
    alpha_config = SignProgrammeConfig(time_zone=SITE, night=(night,))
    modbus_config = SignProgrammeConfig(time_zone=SITE, night=(dim,), brightness=12)
    before = NIGHT_START - dt.timedelta(seconds=1)  # 21:59:59 on the wall
    async with both_signs(tmp_path, clock=lambda: before) as signs:
        lobby, hall = programmes(signs, alpha_config, modbus_config)
        await lobby.show(ranking(42, 17))
        await hall.show(ranking(42, 17, sign="hall"))
        for programme in (lobby, hall):
            await programme.tick(before)
            assert programme.next_change(before) == NIGHT_START  # the scheduled minute is the next step
        await until(lambda: alpha_lines(signs)[1] == "1 Alice       42", "Alpha: day content")
        await until(lambda: modbus_at(signs, 12), "Modbus: content at day brightness")

        for programme in (lobby, hall):
            await programme.tick(NIGHT_START)
        await until(lambda: not any(alpha_lines(signs)), "Alpha: dark at 22:00")
        await until(lambda: modbus_at(signs, 2), "Modbus: dimmed at 22:00, content kept")

        morning = NIGHT_START + dt.timedelta(hours=8, minutes=30)  # 06:30 on the wall: the window ends
        for programme in (lobby, hall):
            await programme.tick(morning)
        await until(lambda: alpha_lines(signs)[1] == "1 Alice       42", "Alpha: content in the morning")
        await until(lambda: modbus_at(signs, 12), "Modbus: day brightness again")
