"""The one object a benchmark talks to: it records lines and shows each one the moment it is measured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bench.measure import Goal, Line, Sizes

SAMPLED = "py-spy, an extra untimed repeat; share of samples"


class Benchmark(Protocol):
    """A benchmark module: a name, a title, what it measures, and ``run``."""

    NAME: str
    TITLE: str
    SUMMARY: str

    def run(self, sizes: Sizes, record: Recorder) -> None: ...


class Recorder:
    """Collects the lines of one benchmark and passes each to ``on_line`` (the live table)."""

    def __init__(self, bench: str, on_line: Callable[[Line], None]) -> None:
        self.bench = bench
        self.lines: list[Line] = []
        self.profiles: dict[str, dict[str, object]] = {}  # line key → {"how": ..., "top": [...]}
        self._on_line = on_line

    def limit(self, key: str, label: str, unit: str, samples: tuple[float, ...], why: str = "") -> Line:
        """Record a limit line (the machine's or a library's ceiling for the same work)."""
        return self._add(
            Line(bench=self.bench, key=key, label=label, role="limit", unit=unit, samples=samples, why=why)
        )

    def ours(
        self,
        key: str,
        label: str,
        unit: str,
        samples: tuple[float, ...],
        *,
        against: str | None,
        why: str = "",
        goal: Goal | None = None,
        row: str = "",
    ) -> Line:
        """Record one of our figures, compared with the limit line ``against`` and with its goal."""
        line = Line(
            bench=self.bench,
            key=key,
            label=label,
            role="ours",
            unit=unit,
            samples=samples,
            against=against,
            why=why,
            goal=goal,
            row=row,
        )
        return self._add(line)

    def profiled(self, key: str, top: list[str], how: str = SAMPLED) -> None:
        """Attach a profile's top entries to the line ``key`` (taken because its goal was missed);
        ``how`` says how the profile was taken."""
        self.profiles[key] = {"how": how, "top": top}

    def _add(self, line: Line) -> Line:
        self.lines.append(line)
        self._on_line(line)
        return line
