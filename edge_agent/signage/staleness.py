"""Honest when offline: when the sign's content stops being known current, and how that is shown.

Rules: the content is known current while the link is up, and at every delivery from the cloud
(even a retained copy of the version already shown). Once the link has been down for
``offline_after``, the content is stale: it stays on the sign with an "updated HH:MM" marker, HH:MM
being the last instant it was known current. The marker stays after the link returns and leaves
only with the next delivery (fresh content), so a link that is up but silent never clears it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from firmware_protocols.sync import SignContent

MARKER = "updated {:%H:%M}"


class Staleness:
    def __init__(self, offline_after: dt.timedelta, link_up: Callable[[], bool]) -> None:
        self._offline_after, self._link_up = offline_after, link_up
        self.known_current_at: dt.datetime | None = None
        self.stale = False

    def confirmed(self, now: dt.datetime) -> None:
        """The cloud delivered content at ``now``."""
        self.known_current_at, self.stale = now, False

    def observe(self, now: dt.datetime) -> None:
        """Look at the link at ``now`` (called at every programme tick)."""
        if self._link_up():
            if not self.stale and self.known_current_at is not None:
                self.known_current_at = now
        elif self.known_current_at is not None and now - self.known_current_at >= self._offline_after:
            self.stale = True

    def marker_time(self) -> dt.datetime | None:
        """The time the marker shows, or None while the content is current."""
        return self.known_current_at if self.stale else None


def marked(content: SignContent, at: dt.datetime, width: int) -> SignContent:
    """``content`` with the marker in its title line: after the title when both fit ``width``
    characters, else alone (the marker is what must be read; the period gives way too)."""
    marker = MARKER.format(at)
    title = f"{content.title} {marker}" if len(content.title) + 1 + len(marker) <= width else marker
    return dataclasses.replace(content, title=title, period="")
