"""A sign's programme: what it shows at any instant, and the task that keeps it showing just that.

``compose(now)`` decides, in this order:
1. an open ``dark`` night window blanks the sign (brightness 0 where the sign has a dimmer);
2. an open announcement (the latest opened wins) replaces the playlist;
3. otherwise the playlist rotates on wall-clock time: the position in the cycle is the whole seconds
   since the epoch modulo the summed dwell times, so restarts and an injected clock agree on it.
   Items with nothing to show yet (no content from the cloud) leave the cycle;
4. content from the cloud carries the offline marker while it is stale (``Staleness``).
The cloud's ``clock`` content becomes the live clock: the sign's own clock, set by ``clock_sync``,
never a timestamp frozen at publication. Brightness is a dim night window's level, else the daytime
level. ``tick(now)`` pushes the composed face only when it differs from the last one pushed, so the
drivers' change-only updates see a change only when the face changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from edge_agent.clock import utcnow
from edge_agent.signage.config import SignProgrammeConfig
from edge_agent.signage.schedule import CronWindow, next_fire, trigger
from edge_agent.signage.staleness import Staleness, marked
from firmware_protocols.sync import SignContent

log = logging.getLogger(__name__)

LIVE_CLOCK: Final = "clock"  # kind of a SignContent without lines: the sign shows its own clock
DARK: Final = "dark"
LINK_POLL_S: Final = 1.0  # the link's state is polled: a marker is due at most this late


def is_live_clock(content: SignContent) -> bool:
    return content.kind == LIVE_CLOCK and not (content.lines or content.rows)


class ShowsContent(Protocol):
    async def show(self, content: SignContent) -> None: ...


@runtime_checkable
class HasBrightness(Protocol):
    async def set_brightness(self, level: int) -> None: ...


@runtime_checkable
class HasClock(Protocol):
    async def set_clock(self, now: dt.datetime) -> None: ...


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Face:
    """What the sign should show now, and how bright (None: leave the sign's brightness alone)."""

    content: SignContent
    brightness: int | None


class SignProgramme:
    """Wraps one sign driver: takes the cloud's content (``show``) and runs the programme on it."""

    def __init__(
        self,
        name: str,
        sign: ShowsContent,
        config: SignProgrammeConfig,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        link_up: Callable[[], bool] = lambda: True,
        title_width: int = 16,
    ) -> None:
        self.name, self._sign, self._config = name, sign, config
        self._clock, self._title_width = clock, title_width
        zone = config.zone
        self._night = [(w, CronWindow(w.start, w.end, zone)) for w in config.night]
        self._announcements = [(a.text, CronWindow(a.start, a.end, zone)) for a in config.announcements]
        self._clock_sync = trigger(config.clock_sync, zone)
        self._next_clock_set: dt.datetime | None = None  # None: set it at the first tick
        self.staleness = Staleness(dt.timedelta(seconds=config.offline_after_s), link_up)
        self._cloud: SignContent | None = None
        self.pushed: Face | None = None
        self._wake = asyncio.Event()

    # --- inputs ---------------------------------------------------------------------------------

    async def show(self, content: SignContent) -> None:
        """New content from the cloud (the display router calls this)."""
        self._cloud = content
        self.fresh()

    def fresh(self) -> None:
        """The cloud's content was (re)confirmed: a retained delivery, even of a version already shown."""
        self.staleness.confirmed(self._clock())
        self._wake.set()

    # --- the programme --------------------------------------------------------------------------

    def compose(self, now: dt.datetime) -> Face | None:
        """The face at ``now``; None while there is nothing to show at all."""
        night = next((w for w, window in self._night if window.is_open(now)), None)
        brightness = (
            night.brightness if night is not None and night.mode == "dim" else self._config.brightness
        )
        if night is not None and night.mode == "dark":
            blank = SignContent(sign=self.name, title="", period="", rows=(), kind=DARK)
            return Face(content=blank, brightness=0)
        content = self._announcement(now) or self._playlist_item(now)
        return None if content is None else Face(content=content, brightness=brightness)

    def _announcement(self, now: dt.datetime) -> SignContent | None:
        opened = [(at, text) for text, window in self._announcements if (at := window.opened_at(now))]
        if not opened:
            return None
        return self._text(max(opened)[1])

    def _text(self, text: str) -> SignContent:
        lines = tuple(line for line in text.split("\n") if line.strip())
        return SignContent(sign=self.name, title="", period="", rows=(), kind="announcement", lines=lines)

    def _cycle(self) -> list[tuple[int, SignContent]]:
        """(dwell, content) of the items that have something to show."""
        items: list[tuple[int, SignContent]] = []
        for item in self._config.playlist:
            if item.kind == "announcement":
                items.append((item.dwell_s, self._text(item.text)))
            elif item.kind == "clock":
                title = self._cloud.title if self._cloud and self._cloud.kind == LIVE_CLOCK else ""
                items.append((item.dwell_s, self._live_clock(title)))
            elif self._cloud is not None:
                items.append((item.dwell_s, self._from_cloud(self._cloud)))
        return items

    def _live_clock(self, title: str) -> SignContent:
        return SignContent(sign=self.name, title=title, period="", rows=(), kind=LIVE_CLOCK)

    def _from_cloud(self, content: SignContent) -> SignContent:
        if content.kind == LIVE_CLOCK:
            return self._live_clock(content.title)
        at = self.staleness.marker_time()
        if at is None:
            return content
        return marked(content, at.astimezone(self._config.zone), self._title_width)

    def _playlist_item(self, now: dt.datetime) -> SignContent | None:
        cycle = self._cycle()
        if not cycle:
            return None
        position = int(now.timestamp()) % sum(dwell for dwell, _ in cycle)
        for dwell, content in cycle:
            if position < dwell:
                return content
            position -= dwell
        raise AssertionError("position beyond the cycle")  # unreachable: position < total

    def next_change(self, now: dt.datetime) -> dt.datetime:
        """The next instant the face may change by the clock alone (the link is polled besides)."""
        candidates = [now + dt.timedelta(days=1)]
        if len(cycle := self._cycle()) > 1:
            total = sum(dwell for dwell, _ in cycle)
            position, end = int(now.timestamp()) % total, 0
            for dwell, _ in cycle:
                end += dwell
                if position < end:
                    break
            candidates.append(now.replace(microsecond=0) + dt.timedelta(seconds=end - position))
        candidates += [window.next_change(now) for _, window in self._night]
        candidates += [window.next_change(now) for _, window in self._announcements]
        if self._next_clock_set is not None:
            candidates.append(self._next_clock_set)
        return min(candidates)

    # --- running it ---------------------------------------------------------------------------

    async def tick(self, now: dt.datetime) -> Face | None:
        """Bring the sign to the programme at ``now``; returns the face pushed (or kept)."""
        self.staleness.observe(now)
        if self._next_clock_set is None or now >= self._next_clock_set:
            if isinstance(self._sign, HasClock):
                await self._sign.set_clock(now.astimezone(self._config.zone))
            self._next_clock_set = next_fire(self._clock_sync, now)
        face = self.compose(now)
        if face is not None and face != self.pushed:
            if face.brightness is not None and isinstance(self._sign, HasBrightness):
                await self._sign.set_brightness(face.brightness)
            await self._sign.show(face.content)
            self.pushed = face
        return face

    async def run(self) -> None:
        """For ever: tick, then wait for the next change, new content, or the next link poll."""
        while True:
            self._wake.clear()
            now = self._clock()
            try:
                await self.tick(now)
            except Exception:
                log.exception("sign %s: programme step failed", self.name)
            wait_s = max(0.0, (self.next_change(now) - now).total_seconds())
            try:
                async with asyncio.timeout(min(wait_s, LINK_POLL_S)):
                    await self._wake.wait()
            except TimeoutError:
                pass
