"""Device clocks: judge device times (flag, never drop) and produce the time to set on a device.

Device clocks drift and jump: a flat RTC battery restarts the clock in 2000, a technician sets the
wrong day, a DST change moves it an hour. The agent's own order of events is the outbox ``seq``;
a device time is only checked for plausibility, and a suspect one sets ``Punch.clock_suspect``
while the event is kept. A time is suspect when it is

- more than ``max_ahead`` after the agent's clock (a device a day ahead is wrong, not early);
- before ``floor`` (the RTC-reset years);
- more than ``max_backwards`` before the latest plausible time of the same device, taken in the
  order the device recorded its events (a clock set back). The tolerance covers a DST change.

A suspect time never moves the device's latest plausible time, so the good times after one bad
jump do not read as backwards jumps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Final
from zoneinfo import ZoneInfo


class ClockIssue(enum.StrEnum):
    AHEAD = "ahead of the agent's clock"
    BEFORE_FLOOR = "before the sane floor"
    BACKWARDS = "backwards jump"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ClockRules:
    max_ahead: dt.timedelta = dt.timedelta(minutes=10)
    max_backwards: dt.timedelta = dt.timedelta(hours=2)
    floor: dt.datetime = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


DEFAULT_RULES: Final = ClockRules()
# How close a device clock must read back after it was set (the protocols carry whole seconds).
SET_TOLERANCE: Final = dt.timedelta(seconds=2)


class DeviceClock:
    """The plausibility state of one device's clock; feed it the device's times in its own order."""

    def __init__(self, rules: ClockRules = DEFAULT_RULES) -> None:
        self.rules = rules
        self.latest: dt.datetime | None = None

    def judge(self, occurred_at: dt.datetime, *, now: dt.datetime) -> ClockIssue | None:
        """What is wrong with ``occurred_at`` (UTC) given the agent's ``now``, or None if plausible."""
        issue = self._issue(occurred_at, now)
        if issue is None and (self.latest is None or occurred_at > self.latest):
            self.latest = occurred_at
        return issue

    def _issue(self, occurred_at: dt.datetime, now: dt.datetime) -> ClockIssue | None:
        if occurred_at > now + self.rules.max_ahead:
            return ClockIssue.AHEAD
        if occurred_at < self.rules.floor:
            return ClockIssue.BEFORE_FLOOR
        if self.latest is not None and occurred_at < self.latest - self.rules.max_backwards:
            return ClockIssue.BACKWARDS
        return None


def utcnow() -> dt.datetime:
    """The agent's clock, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def device_wall_time(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.datetime:
    """The agent's clock as a device in ``zone`` shows it: naive local time, whole seconds."""
    return (now or utcnow()).astimezone(zone).replace(tzinfo=None, microsecond=0)


def reads_close(device_time: dt.datetime, expected: dt.datetime) -> bool:
    """Whether a device clock read back (naive local) is within ``SET_TOLERANCE`` of ``expected``."""
    return abs(device_time - expected) <= SET_TOLERANCE
