"""The one object a benchmark talks to: it records lines and shows each one the moment it is measured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bench.measure import Line, Role, Sizes


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
        self._on_line = on_line

    def limit(self, key: str, label: str, unit: str, samples: tuple[float, ...], why: str = "") -> Line:
        """Record a limit line (the machine's or a library's ceiling for the same work)."""
        return self._add("limit", key, label, unit, samples, None, why)

    def ours(
        self, key: str, label: str, unit: str, samples: tuple[float, ...], *, against: str, why: str = ""
    ) -> Line:
        """Record one of our figures, compared with the limit line ``against``."""
        return self._add("ours", key, label, unit, samples, against, why)

    def _add(
        self,
        role: Role,
        key: str,
        label: str,
        unit: str,
        samples: tuple[float, ...],
        against: str | None,
        why: str,
    ) -> Line:
        line = Line(
            bench=self.bench,
            key=key,
            label=label,
            role=role,
            unit=unit,
            samples=samples,
            against=against,
            why=why,
        )
        self.lines.append(line)
        self._on_line(line)
        return line
