"""What a sign runs by itself on the agent: playlist, schedules, clock setting, the offline marker.

Every sign entry of the inventory (``alpha_sign``, ``modbus_led``) takes an optional ``programme``
table. The defaults keep today's behaviour (the cloud's content, shown for ever) and add only the
offline marker. Cron expressions are the five crontab fields (minute hour day month weekday),
evaluated in ``time_zone`` (the site's zone, not the agent's), so "22:00" means 22:00 on the wall.
"""

from __future__ import annotations

import zoneinfo
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_BRIGHTNESS = 15
MAX_TEXT = 200  # an announcement: a few short lines, as signs show them


def check_cron(expression: str) -> str:
    """``expression`` when it is a valid five-field crontab line; ValueError says why not."""
    fields = expression.split()
    if len(fields) == 5 and any(c.isdigit() for c in fields[4]):
        # apscheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0: names are unambiguous.
        raise ValueError(f"weekday field {fields[4]!r}: use day names (mon, tue, ... sun), not numbers")
    from edge_agent.signage.schedule import trigger  # apscheduler loads only where signs have schedules

    try:
        trigger(expression, zoneinfo.ZoneInfo("UTC"))
    except ValueError as exc:
        raise ValueError(f"not a five-field cron expression ({exc})") from None
    return expression


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlaylistItem(_Model):
    """One step of the rotation: ``cloud`` (the cloud's content for this sign), ``clock`` (the sign's
    own clock, always live) or ``announcement`` (``text``, one sign line per line)."""

    kind: Literal["cloud", "clock", "announcement"]
    dwell_s: int = Field(default=10, ge=1, le=86_400, description="seconds this item stays up")
    text: str = Field(default="", max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _text_only_for_announcements(self) -> Self:
        if (self.kind == "announcement") != bool(self.text.strip()):
            raise ValueError("text is required for an announcement item, and only there")
        return self


class Window(_Model):
    """A span that opens at each ``start`` fire and closes at the next ``end`` fire."""

    start: str = Field(description="cron expression opening the window")
    end: str = Field(description="cron expression closing the window")

    @field_validator("start", "end")
    @classmethod
    def _cron(cls, expression: str) -> str:
        return check_cron(expression)


class NightWindow(Window):
    """Night mode: ``dark`` blanks the sign; ``dim`` keeps the content at ``brightness`` (Modbus)."""

    mode: Literal["dark", "dim"] = "dark"
    brightness: int = Field(default=1, ge=0, le=MAX_BRIGHTNESS)


class Announcement(Window):
    """While open, ``text`` replaces the playlist (the latest opened announcement wins)."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)


class SignProgrammeConfig(_Model):
    time_zone: str | None = Field(
        default=None, description="the site's IANA zone, e.g. Asia/Shanghai; unset: the agent's own zone"
    )
    playlist: tuple[PlaylistItem, ...] = Field(
        default=(PlaylistItem(kind="cloud"),), min_length=1, max_length=16
    )
    night: tuple[NightWindow, ...] = Field(default=(), max_length=8)
    announcements: tuple[Announcement, ...] = Field(default=(), max_length=16)
    brightness: int | None = Field(
        default=None, ge=0, le=MAX_BRIGHTNESS, description="daytime brightness (Modbus); unset: left alone"
    )
    clock_sync: str = Field(default="0 4 * * *", description="cron: when the sign's own clock is set")
    offline_after_s: float = Field(
        default=600.0, gt=0, description="link down this long: the sign adds an 'updated HH:MM' marker"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @field_validator("clock_sync")
    @classmethod
    def _cron(cls, expression: str) -> str:
        return check_cron(expression)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The zone schedules and the sign's clock follow (the agent's own when unset)."""
        if self.time_zone is None:
            return local_zone()
        return zoneinfo.ZoneInfo(self.time_zone)


def local_zone() -> zoneinfo.ZoneInfo:
    """The agent's zone (/etc/localtime, TZ), as the scheduler library reads it; UTC if unreadable."""
    from tzlocal import get_localzone  # installed with apscheduler 3

    zone = get_localzone()
    return zone if isinstance(zone, zoneinfo.ZoneInfo) else zoneinfo.ZoneInfo("UTC")
