"""What a benchmark reports: lines of OUR figure or a LIMIT, each the median of timed repeats.

Rule: every rate is work done / wall time of one repeat, taken ``repeats`` times; the median is the
figure, the spread (min..max) is kept so a noisy line shows itself. An ``ours`` line names the
``limit`` line it is compared with (``against``); the ratio is ours / limit.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Literal

Role = Literal["ours", "limit"]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Goal:
    """The figure issue 10 asks for: ``value`` in the line's unit, reached from above or below."""

    value: float
    higher_is_better: bool = True

    def met(self, figure: float) -> bool:
        """True when ``figure`` reaches the goal."""
        return figure >= self.value if self.higher_is_better else figure <= self.value

    def text(self) -> str:
        """``≥ 5,000`` or ``≤ 50``."""
        sign = "≥" if self.higher_is_better else "≤"
        return f"{sign} {self.value:,.0f}" if self.value >= 100 else f"{sign} {self.value:g}"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    """One measured figure: ``samples`` are rates in ``unit`` (e.g. rows/s), one per repeat."""

    bench: str
    key: str
    label: str
    role: Role
    unit: str
    samples: tuple[float, ...]
    against: str | None = None
    why: str = ""
    goal: Goal | None = None
    row: str = ""  # the row of the issue-10 table this line fills ("" when it fills none)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Sizes:
    """How much work one repeat does and how many repeats (``--quick`` shrinks both work and wait)."""

    quick: bool
    repeats: int
    postgres_url: str | None = None  # the cloud benches run on PostgreSQL too when set
    full_backlog: bool = False  # drain a real 1M backlog instead of a bounded window
    profile: bool = False  # profile the process under test with py-spy where a goal is missed
    smoke: bool = False  # the test suite's run: smallest sizes, shortest windows

    def pick(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` under --quick (or the smoke run)."""
        return quick if self.quick or self.smoke else full

    def seconds(self, full: float, quick: float, smoke: float | None = None) -> float:
        """A time window: ``full`` normally, ``quick`` under --quick, ``smoke`` (else ``quick``) if smoke."""
        if self.smoke and smoke is not None:
            return smoke
        return quick if self.quick or self.smoke else full


def rate(count: float, seconds: float) -> float:
    """Work per second (guards a zero elapsed time on a coarse clock)."""
    return count / max(seconds, 1e-9)


def repeat_sync(repeats: int, run_once: Callable[[], float]) -> tuple[float, ...]:
    """Call ``run_once`` (returns one rate) ``repeats`` times."""
    return tuple(run_once() for _ in range(repeats))


async def repeat_async(repeats: int, run_once: Callable[[], Awaitable[float]]) -> tuple[float, ...]:
    """Await ``run_once`` (returns one rate) ``repeats`` times, one after another."""
    return tuple([await run_once() for _ in range(repeats)])


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds`` (monotonic, high resolution)."""

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self._start
