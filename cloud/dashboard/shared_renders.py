"""One render of a dashboard's panels shared by every stream that shows the same view at the same moment.

Rule: panels are keyed by (view, ranking version, refresh tick). A hundred wall screens on one view cost
one render per change, not a hundred: the first stream to ask renders (as a task, so concurrent askers
await the same one), the others take its result. A failed render is forgotten, so the next ask retries.
Bounded: the least recently used entries go beyond ``max_entries``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from typing import Final

from fastapi import Request

from cloud.dashboard import board
from cloud.dashboard.rendering import read_panels

Key = tuple[board.View, int, int]
MAX_ENTRIES: Final = 64


class SharedRenders:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Key, asyncio.Task[dict[str, str]]] = OrderedDict()
        self._max_entries = max_entries
        self.renders = 0  # for tests and metrics

    async def fragments(self, request: Request, view: board.View, version: int, tick: int) -> dict[str, str]:
        """Each panel's HTML for ``view`` at ranking ``version`` and refresh ``tick``."""
        key = (view, version, tick)
        task = self._entries.get(key)
        if task is None:
            task = asyncio.create_task(self._render(request, view), name="dashboard-render")
            self._entries[key] = task
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        try:
            return await asyncio.shield(task)
        except Exception:
            if self._entries.get(key) is task:
                del self._entries[key]
            raise

    async def _render(self, request: Request, view: board.View) -> dict[str, str]:
        self.renders += 1
        async with request.app.state.read_sessions() as session:
            panels = await read_panels(session, view, dt.datetime.now(dt.UTC))
        return panels.fragments()
