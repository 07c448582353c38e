"""The programme's rules on a recording sign: announcements, the marker's layout, the running task."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from edge_agent.signage import Announcement, PlaylistItem, SignProgramme, SignProgrammeConfig, marked
from edge_agent.signage.config import local_zone
from tests.edge_agent.link.support import RecordingSign
from tests.edge_agent.signage.support import ranking
from tests.support.polling import async_wait_for

MONDAY_8 = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)  # 08:00 on a Monday in Shanghai


async def test_an_announcement_replaces_the_playlist_while_its_window_is_open() -> None:
    meeting = Announcement(start="0 8 * * mon", end="0 10 * * mon", text="Team meeting\n9:30 hall B")
    config = SignProgrammeConfig(time_zone="Asia/Shanghai", announcements=(meeting,))
    sign = RecordingSign()
    programme = SignProgramme("lobby", sign, config, clock=lambda: MONDAY_8)
    await programme.show(ranking(42))
    await programme.tick(MONDAY_8 - dt.timedelta(minutes=1))
    assert sign.shown[-1].title == "TOP"  # control: before the window
    await programme.tick(MONDAY_8)
    assert sign.shown[-1].lines == ("Team meeting", "9:30 hall B")
    await programme.tick(MONDAY_8 + dt.timedelta(hours=2))
    assert sign.shown[-1].title == "TOP"
    assert len(sign.shown) == 3  # one push per change, nothing in between


async def test_an_unchanged_face_is_not_pushed_again() -> None:
    sign = RecordingSign()
    programme = SignProgramme("lobby", sign, SignProgrammeConfig(), clock=lambda: MONDAY_8)
    await programme.show(ranking(42))
    for second in range(5):
        await programme.tick(MONDAY_8 + dt.timedelta(seconds=second))
    assert len(sign.shown) == 1
    await programme.show(ranking(43))
    await programme.tick(MONDAY_8 + dt.timedelta(seconds=5))
    assert [content.rows[0].points for content in sign.shown] == [42, 43]


def test_the_marker_follows_the_title_when_both_fit_else_stands_alone() -> None:
    at = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)
    assert marked(ranking(1), at, 24).title == "TOP updated 14:05"
    assert marked(ranking(1), at, 16).title == "updated 14:05"
    assert marked(ranking(1), at, 16).period == ""
    assert marked(ranking(1), at, 16).rows == ranking(1).rows


async def test_the_running_programme_shows_new_content_at_once() -> None:
    sign = RecordingSign()
    config = SignProgrammeConfig(playlist=(PlaylistItem(kind="cloud", dwell_s=3600),))
    programme = SignProgramme("lobby", sign, config)  # the real clock: run() reads it
    task = asyncio.create_task(programme.run())
    try:
        await programme.show(ranking(7))

        async def shown() -> bool:
            return bool(sign.shown) and sign.shown[-1].rows == ranking(7).rows

        await async_wait_for(shown, what="content pushed by the running programme")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class ClockedSign(RecordingSign):
    """A recording sign that also has a clock to set."""

    def __init__(self) -> None:
        super().__init__()
        self.clock_set: list[dt.datetime] = []

    async def set_clock(self, now: dt.datetime) -> None:
        self.clock_set.append(now)


async def test_the_signs_clock_is_set_at_start_and_at_each_clock_sync() -> None:
    sign = ClockedSign()
    config = SignProgrammeConfig(time_zone="Asia/Shanghai", clock_sync="0 4 * * *")
    programme = SignProgramme("lobby", sign, config, clock=lambda: MONDAY_8)
    await programme.tick(MONDAY_8)
    await programme.tick(MONDAY_8 + dt.timedelta(hours=19))  # 03:00 next day: not yet
    next_sync = MONDAY_8 + dt.timedelta(hours=20)  # 04:00 site time
    assert programme.next_change(MONDAY_8 + dt.timedelta(hours=19)) == next_sync
    await programme.tick(next_sync)
    assert [f"{t:%d %H:%M %Z}" for t in sign.clock_set] == ["07 08:00 CST", "08 04:00 CST"]


def test_without_a_time_zone_the_agents_own_zone_is_used() -> None:
    assert SignProgrammeConfig().zone == local_zone()
