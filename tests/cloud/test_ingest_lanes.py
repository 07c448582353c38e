"""Per-agent lanes of the ingest worker: order within an agent, agents side by side, a bound."""

from __future__ import annotations

import asyncio

from cloud.ingest.lanes import Lanes
from tests.support.polling import async_wait_for


class Gates:
    """An ``apply`` whose items start, then wait until the test opens their gate."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    async def apply(self, item: str) -> None:
        self.started.append(item)
        await self.gates.setdefault(item, asyncio.Event()).wait()
        self.finished.append(item)

    def open(self, item: str) -> None:
        self.gates.setdefault(item, asyncio.Event()).set()

    async def started_all(self, *items: str) -> bool:
        return set(items) <= set(self.started)


async def test_one_agent_in_order_while_another_runs_beside_it() -> None:
    gates = Gates()
    lanes: Lanes[str] = Lanes(gates.apply, limit=8)
    for key, item in [("a", "a1"), ("a", "a2"), ("b", "b1")]:
        await lanes.submit(key, item)
    await async_wait_for(lambda: gates.started_all("a1", "b1"), what="a1 and b1 running together")
    assert "a2" not in gates.started  # a2 waits for a1, although b1 already runs
    gates.open("b1")
    await async_wait_for(lambda: _ready("b1" in gates.finished), what="b1 done")
    assert "a2" not in gates.started  # control: b's progress does not release a's order
    gates.open("a1")
    await async_wait_for(lambda: gates.started_all("a2"), what="a2 after a1")
    gates.open("a2")
    await async_wait_for(lambda: _ready(gates.finished == ["b1", "a1", "a2"]), what="all done in order")
    assert lanes.in_flight == 0


async def test_submit_waits_while_the_limit_is_held_and_close_cancels() -> None:
    gates = Gates()
    lanes: Lanes[str] = Lanes(gates.apply, limit=2)
    await lanes.submit("a", "a1")
    await lanes.submit("b", "b1")
    third = asyncio.create_task(lanes.submit("c", "c1"))
    await async_wait_for(lambda: gates.started_all("a1", "b1"), what="two items running")
    for _ in range(10):
        await asyncio.sleep(0)  # let every ready task run: the third submit must still be waiting
    assert not third.done()
    assert lanes.in_flight == 2
    gates.open("a1")
    await asyncio.wait_for(third, timeout=10)
    await async_wait_for(lambda: gates.started_all("c1"), what="c1 once a slot was free")
    await lanes.aclose()
    assert sorted(gates.finished) == ["a1"]  # b1 and c1 were cancelled, never finished
    assert lanes.in_flight == 0


async def _ready(value: bool) -> bool:
    return value


async def test_grouped_lanes_hand_over_what_queued_as_one_run_in_order() -> None:
    runs: list[list[str]] = []
    first_started = asyncio.Event()
    release_first = asyncio.Event()

    async def apply(run: list[str]) -> None:
        runs.append(list(run))
        if len(runs) == 1:
            first_started.set()
            await release_first.wait()

    lanes: Lanes[str] = Lanes.grouped(apply, limit=16, group=3)
    await lanes.submit("a", "a1")
    await asyncio.wait_for(first_started.wait(), timeout=10)
    for item in ["a2", "a3", "a4", "a5"]:  # queue behind a1 while it runs
        await lanes.submit("a", item)
    await lanes.submit("b", "b1")
    release_first.set()
    await async_wait_for(lambda: _ready(lanes.in_flight == 0), what="every item applied")
    a_runs = [run for run in runs if run[0].startswith("a")]
    assert a_runs == [["a1"], ["a2", "a3", "a4"], ["a5"]]  # at most 3 a run, arrival order kept
    assert ["b1"] in runs  # another agent's item is never in a's run
    await lanes.aclose()
