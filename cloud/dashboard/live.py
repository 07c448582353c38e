"""Live updates over server-sent events: panels re-sent as HTML fragments when what they show changes.

Theory of operation: each stream polls its organisation's ranking version (one primary-key read,
``cloud.domain.ranking_version``) every ``poll_s``; a new version re-renders the panels at once, so an
award reaches the screen within about ``poll_s`` plus a render. Everything else a panel shows (agent
status, display configuration, a clock) is caught by a re-render at every ``refresh_s`` tick. Renders
are shared by the streams of one view (``shared_renders``); each stream sends only the fragments
whose HTML changed since it last sent them. Every ``heartbeat_s`` the stream sends a heartbeat event and
re-checks the pass: a revoked link or token gets a ``bye`` event and the stream ends.
Bounds: at most ``max_streams`` open streams per process (the next one is refused with 503 and a
Retry-After); a stream ends when the client disconnects (checked every poll) or after ``max_age_s``
(the browser's EventSource reconnects by itself), so no stream outlives its pass for long.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable

from fastapi import Request

from cloud.dashboard import access, board, passes
from cloud.dashboard.shared_renders import SharedRenders

Clock = Callable[[], float]


@dataclasses.dataclass(kw_only=True, slots=True)
class LiveSettings:
    poll_s: float = 0.2
    refresh_s: float = 3.0
    heartbeat_s: float = 15.0
    max_age_s: float = 3600.0
    max_streams: int = 100


class Slot:
    """One open stream's place under the cap; releasing it twice releases it once."""

    def __init__(self, limit: StreamLimit) -> None:
        self._limit: StreamLimit | None = limit

    def release(self) -> None:
        if self._limit is not None:
            self._limit.open -= 1
            self._limit = None


class StreamLimit:
    """Counts open streams; ``try_open`` refuses past the cap."""

    def __init__(self, settings: LiveSettings) -> None:
        self.settings = settings
        self.open = 0

    def try_open(self) -> Slot | None:
        """A slot for one more stream, or None at the cap."""
        if self.open >= self.settings.max_streams:
            return None
        self.open += 1
        return Slot(self)


def sse(event: str, data: str) -> bytes:
    """One SSE message: every line of ``data`` as its own ``data:`` field (EventSource joins them)."""
    lines = data.replace("\r", "").split("\n")
    return (f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()


async def stream(
    request: Request,
    viewer: access.Viewer,
    view: board.View,
    settings: LiveSettings,
    slot: Slot,
    renders: SharedRenders,
    clock: Clock = time.monotonic,
) -> AsyncIterator[bytes]:
    """The SSE byte stream for ``viewer``; releases ``slot`` however it ends."""
    try:
        yield b"retry: 2000\n\n"
        sent: dict[str, str] = {}
        started = last_beat = clock()
        shown: tuple[int, int] | None = None  # (ranking version, refresh tick) last rendered
        while not await request.is_disconnected():
            now = clock()
            wanted = (await _version(request, view.org_id), int(now // settings.refresh_s))
            if wanted != shown:
                shown = wanted
                fragments = await renders.fragments(request, view, *wanted)
                for message in _changed(fragments, sent):
                    yield message
            if now - last_beat >= settings.heartbeat_s:
                last_beat = now
                if not await _pass_holds(request, viewer):
                    yield sse("bye", "this dashboard pass was revoked or has expired")
                    return
                yield sse("heartbeat", "live")
            if now - started >= settings.max_age_s:
                return
            await asyncio.sleep(settings.poll_s)
    finally:
        slot.release()


async def _version(request: Request, org_id: int) -> int:
    stamp = await request.app.state.rankings.stamps.stamp(org_id)
    return int(stamp.version)


def _changed(fragments: dict[str, str], sent: dict[str, str]) -> list[bytes]:
    """SSE messages for the panels whose HTML differs from what this stream sent last."""
    messages = []
    for name, html in fragments.items():
        if sent.get(name) != html:
            sent[name] = html
            messages.append(sse(name, html))
    return messages


async def _pass_holds(request: Request, viewer: access.Viewer) -> bool:
    now = dt.datetime.now(dt.UTC)
    try:
        granted = passes.verify(request.app.state.master_key, viewer.pass_text, now)
    except passes.BadPass:
        return False
    async with request.app.state.read_sessions() as session:
        return await access.still_valid(session, granted, now) is not None
