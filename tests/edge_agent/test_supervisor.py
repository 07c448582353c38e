"""edge_agent.supervisor: a failing task is restarted with backoff and reported; it never ends the agent."""

from __future__ import annotations

import asyncio

import pytest

from edge_agent.supervisor import Backoff, Supervisor
from tests.support.polling import async_wait_for

FAST = Backoff(base_delay_s=0.01, max_delay_s=0.05, healthy_after_s=60)


class Flaky:
    """Fails ``failures`` times, then runs until cancelled."""

    def __init__(self, failures: int) -> None:
        self.failures, self.starts = failures, 0
        self.running = asyncio.Event()

    async def run(self) -> None:
        self.starts += 1
        if self.starts <= self.failures:
            raise OSError(f"resource gone (start {self.starts})")
        self.running.set()
        await asyncio.Event().wait()


async def test_a_failing_task_is_restarted_counted_and_reported() -> None:
    supervisor, flaky = Supervisor(FAST), Flaky(failures=3)
    task = asyncio.create_task(supervisor.supervise("driver:gate", flaky.run))
    await asyncio.wait_for(flaky.running.wait(), 10)
    record = supervisor.snapshot()["driver:gate"]
    assert record["restarts"] == 3
    assert record["state"] == "running"
    assert record["last_error"] == "OSError: resource gone (start 3)"
    assert supervisor.changed.is_set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_control_without_supervision_the_same_failure_ends_the_task_group() -> None:
    flaky = Flaky(failures=1)

    async def agent_without_supervision() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(flaky.run())
            group.create_task(asyncio.Event().wait())  # a healthy sibling is taken down with it

    with pytest.raises(ExceptionGroup) as raised:
        await agent_without_supervision()
    assert raised.group_contains(OSError)


async def test_a_fatal_error_reaches_the_composition_root() -> None:
    class Unusable(Exception):
        pass

    async def broken() -> None:
        raise Unusable("outbox gone")

    with pytest.raises(Unusable):
        await Supervisor(FAST, fatal=(Unusable,)).supervise("status", broken)


async def test_a_task_that_returns_has_finished_and_is_not_restarted() -> None:
    supervisor, starts = Supervisor(FAST), []

    async def once() -> None:
        starts.append(1)

    await supervisor.supervise("observability", once)
    assert starts == [1]
    assert supervisor.snapshot()["observability"]["state"] == "finished"


async def test_a_task_in_backoff_is_shown_as_such() -> None:
    supervisor = Supervisor(Backoff(base_delay_s=30, max_delay_s=30))

    async def fails() -> None:
        raise ConnectionError("port taken")

    task = asyncio.create_task(supervisor.supervise("link", fails))

    async def in_backoff() -> bool:
        return supervisor.tasks.get("link") is not None and supervisor.tasks["link"].state == "backoff"

    await async_wait_for(in_backoff, what="the task in backoff")
    assert supervisor.tasks["link"].consecutive_failures == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize(
    ("failures", "jitter", "expected"),
    [(1, 0.0, 0.5), (1, 0.999999, 1.0), (2, 0.0, 1.0), (4, 0.0, 4.0), (7, 0.0, 30.0), (50, 0.999999, 60.0)],
)
def test_backoff_doubles_is_capped_and_jittered(failures: int, jitter: float, expected: float) -> None:
    backoff = Backoff(base_delay_s=1, max_delay_s=60)
    assert backoff.delay(failures, jitter) == pytest.approx(expected, rel=1e-5)
