"""Per-agent lanes: an agent's messages are applied in arrival order, different agents side by side.

Rules. ``submit`` waits for one of ``limit`` slots (the bound on messages held in this worker:
queued or being applied), so a burst pushes back on the broker instead of piling up here. Each
agent (lane key) has a queue drained by one task, so its batches commit, and are acked, in the
order they arrived. A lane's task ends when its queue is empty; the next message starts a new one.
``aclose`` cancels what is still in flight: nothing was acked for it, so the agents send it again.
``Lanes.grouped`` hands a lane's queued items to ``apply`` as one run (up to ``group`` of them, in
order): a backlog is then applied in fewer, larger transactions, while a lone item still goes at once.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lanes(Generic[T]):
    """Runs ``apply`` on submitted items: in order per key, concurrently across keys, ``limit`` at most."""

    def __init__(self, apply: Callable[[T], Awaitable[None]], *, limit: int) -> None:
        async def one(items: list[T]) -> None:
            await apply(items[0])

        self._apply_run: Callable[[list[T]], Awaitable[None]] = one
        self._group = 1
        self._slots = asyncio.Semaphore(limit)
        self._queues: dict[str, collections.deque[T]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def grouped(cls, apply: Callable[[list[T]], Awaitable[None]], *, limit: int, group: int) -> Lanes[T]:
        """Lanes whose ``apply`` takes a run of up to ``group`` consecutive items of one key."""

        async def unused(item: T) -> None:
            raise AssertionError("grouped lanes apply runs")

        lanes = cls(unused, limit=limit)
        lanes._apply_run = apply
        lanes._group = max(1, group)
        return lanes

    @property
    def in_flight(self) -> int:
        """Items queued or being applied."""
        return sum(len(queue) for queue in self._queues.values())

    async def submit(self, key: str, item: T) -> None:
        """Queue ``item`` behind the earlier items of ``key``; waits while ``limit`` items are held."""
        await self._slots.acquire()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(item)
            return
        self._queues[key] = collections.deque([item])
        task = asyncio.create_task(self._drain(key), name=f"ingest-lane-{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                run = list(itertools.islice(queue, self._group))
                try:
                    await self._apply_run(run)
                finally:
                    for _ in run:
                        queue.popleft()
                        self._slots.release()
        finally:
            del self._queues[key]

    async def aclose(self) -> None:
        """Cancel every lane and wait for them to end."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
