"""Cron windows evaluated at any instant, with the clock passed in (apscheduler 3.x triggers only).

apscheduler's scheduler owns its clock, so it is not used; its ``CronTrigger`` is a pure function
of (previous fire, now) and is. A window is open at ``now`` when its latest ``start`` fire is later
than its latest ``end`` fire. The latest fire before ``now`` is found by looking back over growing
spans (a minute … eight days), so a weekly cron is found and a minutely one stays cheap; a cron
that never fired in eight days counts as never fired. Answers are cached until the next fire of
either cron, so a sign asking every second costs nothing between fires.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # imported on first use: apscheduler's import reads package metadata (≈ 1 MB)
    from apscheduler.triggers.cron import CronTrigger

LOOKBACK: Final = tuple(dt.timedelta(minutes=m) for m in (1, 10, 60, 6 * 60, 24 * 60, 8 * 24 * 60))
TICK: Final = dt.timedelta(microseconds=1)


def trigger(expression: str, zone: zoneinfo.ZoneInfo) -> CronTrigger:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone=zone)


def next_fire(cron: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The first fire strictly after ``now``."""
    fire: dt.datetime | None = cron.get_next_fire_time(None, now + TICK)
    return fire


def last_fire(cron: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest fire at or before ``now`` within the longest look-back, or None."""
    for span in LOOKBACK:
        fire: dt.datetime | None = cron.get_next_fire_time(None, now - span)
        if fire is None or fire > now:
            continue
        while True:
            following: dt.datetime | None = cron.get_next_fire_time(fire, fire + TICK)
            if following is None or following > now:
                return fire
            fire = following
    return None


class CronWindow:
    """Open from each ``start`` fire to the next ``end`` fire."""

    def __init__(self, start: str, end: str, zone: zoneinfo.ZoneInfo) -> None:
        self._start, self._end = trigger(start, zone), trigger(end, zone)
        self._valid: tuple[dt.datetime, dt.datetime, dt.datetime | None] | None = None  # from, until, opened

    def opened_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the window now open opened, or None when it is closed at ``now``."""
        if self._valid is not None and self._valid[0] <= now < self._valid[1]:
            return self._valid[2]
        started, ended = last_fire(self._start, now), last_fire(self._end, now)
        opened = started if started is not None and (ended is None or started > ended) else None
        self._valid = (now, self.next_change(now), opened)
        return opened

    def is_open(self, now: dt.datetime) -> bool:
        return self.opened_at(now) is not None

    def next_change(self, now: dt.datetime) -> dt.datetime:
        """The next instant either cron fires (the window may change there); far away if never."""
        fires = [f for f in (next_fire(self._start, now), next_fire(self._end, now)) if f is not None]
        return min(fires, default=now + LOOKBACK[-1])
