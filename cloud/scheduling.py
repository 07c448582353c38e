"""The cloud's clock: APScheduler (3.x) ticks, the database decides what is due and who runs it.

Why not APScheduler's SQLAlchemyJobStore: it needs a synchronous engine beside our async one, it
pickles the job callables into the database, and every worker would still fire every stored job.
Here the jobs are derived from the database on each tick (``cloud.domain.schedule``), and the run
ledger (``cloud.domain.scheduler``) makes each (job, organisation, period) run exactly once across
all cloud workers, and run once after downtime. APScheduler only owns the tick: one at start-up,
then every ``tick_s`` seconds, never two at once in a worker, and missed ticks coalesced into one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from cloud.db.base import utc_now
from cloud.db.session import SessionFactory
from cloud.domain import scheduler

log = logging.getLogger(__name__)
TICK_S = 60.0


def worker_name() -> str:
    """This process's name in the run ledger: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


class CloudScheduler:
    """Ticks ``scheduler.run_due`` on the running event loop; ``clock`` is injectable for tests."""

    def __init__(
        self,
        sessions: SessionFactory,
        tick_s: float = TICK_S,
        clock: Callable[[], dt.datetime] = utc_now,
        worker: str | None = None,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._tick_s = tick_s
        self._clock = clock
        self._worker = worker or worker_name()
        self._on_change = on_change
        self._scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._ticking: asyncio.Task[object] | None = None

    async def tick(self) -> list[scheduler.Outcome]:
        """Run what is due now; a failure is logged and the next tick tries again."""
        self._ticking = asyncio.current_task()
        try:
            outcomes = await scheduler.run_due(self._sessions, self._clock(), self._worker)
        except Exception:
            log.exception("scheduler tick failed; next try in %.0f s", self._tick_s)
            return []
        for outcome in outcomes:
            log.info(
                "scheduled %s %s: %s %s", outcome.due.job, outcome.due.period, outcome.status, outcome.detail
            )
            if self._on_change is not None and outcome.status == scheduler.DONE:
                self._on_change(outcome.due.org_id)
        return outcomes

    def start(self) -> None:
        """Start ticking (call on the running event loop): now, then every ``tick_s`` seconds."""
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self._tick_s, timezone=dt.UTC),
            id="scheduler-tick",
            next_run_time=dt.datetime.now(dt.UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    async def aclose(self) -> None:
        """Stop ticking; a tick under way is cancelled (its transaction rolls back: due again later)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        ticking, self._ticking = self._ticking, None
        if ticking is not None and ticking is not asyncio.current_task() and not ticking.done():
            ticking.cancel()
            await asyncio.gather(ticking, return_exceptions=True)
