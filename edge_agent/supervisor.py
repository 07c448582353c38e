"""Supervised long-running tasks (STYLE.md 16): a failing task never ends the agent.

Rules:
- a task is given as a factory (a coroutine function), so that it can be started again;
- a task that raises is logged with its traceback, counted and restarted after a backoff of
  ``base_delay_s`` × 2^(consecutive failures − 1), capped at ``max_delay_s``, times a random factor in
  [0.5, 1] (jitter: tasks failing on one shared cause do not retry in lockstep);
- a task that ran for ``healthy_after_s`` before it failed starts again from the base delay;
- a task that returns has finished on purpose (say, a health server whose port is taken) and stays so;
- exceptions in ``fatal`` are not caught: they reach the composition root, which alone decides that
  the process must exit; cancellation passes through.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Literal

log = logging.getLogger(__name__)

TaskFactory = Callable[[], Coroutine[Any, Any, None]]
TaskState = Literal["running", "backoff", "finished"]
MAX_ERROR_TEXT = 300


@dataclasses.dataclass(kw_only=True, slots=True)
class TaskRecord:
    """What status shows about one supervised task."""

    state: TaskState = "running"
    restarts: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_failure_at: str | None = None  # ISO 8601, UTC

    def to_json(self) -> dict[str, object]:
        """The record as a JSON object."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    """Jittered, capped exponential delays before a restart."""

    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    healthy_after_s: float = 60.0

    def delay(self, failures: int, jitter: float) -> float:
        """Seconds to wait after ``failures`` consecutive failures; ``jitter`` in [0, 1)."""
        raw = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, failures - 1))
        return float(raw * (0.5 + jitter / 2))


class Supervisor:
    """Runs named task factories; ``tasks`` holds their records, ``changed`` is set on every change."""

    def __init__(
        self,
        backoff: Backoff | None = None,
        *,
        fatal: tuple[type[BaseException], ...] = (),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.tasks: dict[str, TaskRecord] = {}
        self.changed = asyncio.Event()
        self._fatal, self._jitter = fatal, jitter

    def snapshot(self) -> Mapping[str, Mapping[str, object]]:
        """Every task's record as JSON-ready mappings."""
        return {name: record.to_json() for name, record in self.tasks.items()}

    async def supervise(self, name: str, factory: TaskFactory) -> None:
        """Run ``factory()`` until it returns, restarting it with backoff whenever it raises."""
        record = self.tasks.setdefault(name, TaskRecord())
        while True:
            started = time.monotonic()
            self._set(record, "running")
            try:
                await factory()
            except self._fatal:
                raise
            except Exception as error:
                delay = self._failed(name, record, error, ran_s=time.monotonic() - started)
                await asyncio.sleep(delay)
                record.restarts += 1
                continue
            log.info("task %s finished", name)
            self._set(record, "finished")
            return

    def _failed(self, name: str, record: TaskRecord, error: Exception, *, ran_s: float) -> float:
        if ran_s >= self.backoff.healthy_after_s:
            record.consecutive_failures = 0
        record.consecutive_failures += 1
        record.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT]
        record.last_failure_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        delay = self.backoff.delay(record.consecutive_failures, self._jitter())
        log.error("task %s failed (restart in %.1f s): %s", name, delay, record.last_error, exc_info=error)
        self._set(record, "backoff")
        return delay

    def _set(self, record: TaskRecord, state: TaskState) -> None:
        record.state = state
        self.changed.set()
