"""Run the benchmarks one after another, print a live table, and keep the results.

A complete full run (no ``--quick``, no ``--only``) writes ``bench/results/latest.json`` and
``docs/BENCHMARKS.md``: those are the figures to commit. Any partial or quick run writes
``bench/results/partial.json`` instead, so a smoke run never overwrites committed figures.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Final, TextIO, cast

from bench import machine, report
from bench.measure import Line, Sizes
from bench.recorder import Benchmark, Recorder

# Run order: cheap and machine-bound first, then the ones that need a broker or a server.
BENCHMARKS: Final = (
    "codecs",
    "outbox_accept",
    "outbox_drain",
    "edge_link",
    "cloud_ingest",
    "rankings",
    "site_latency",
)
RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"
DOC_PATH: Final = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
_COLUMNS: Final = "{:<14} {:<52} {:<5} {:>14} {:<10} {:>23} {:>8} {:>10} {:<8}"


def load(name: str) -> Benchmark:
    """Import one benchmark module lazily (``--only codecs`` never imports FastAPI)."""
    return cast(Benchmark, importlib.import_module(f"bench.{name}"))


class LiveTable:
    """Prints each line when measured, with its ratio to the limit it names."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._limits: dict[tuple[str, str], Line] = {}

    def header(self) -> None:
        print(
            _COLUMNS.format("bench", "line", "role", "median", "unit", "min..max", "vs limit", "goal", ""),
            file=self._out,
        )

    def section(self, title: str) -> None:
        print(f"-- {title}", file=self._out, flush=True)

    def show(self, line: Line) -> None:
        if line.role == "limit":
            self._limits[(line.bench, line.key)] = line
        limit = self._limits.get((line.bench, line.against or ""))
        ratio = report.percent(line.median / limit.median) if limit and limit.median else ""
        spread = f"{report.number(min(line.samples))}..{report.number(max(line.samples))}"
        goal = line.goal.text() if line.goal else ""
        met = ("met" if line.goal.met(line.median) else "MISSED") if line.goal else ""
        row = [line.bench, line.label[:52], line.role, report.number(line.median), line.unit, spread]
        row += [ratio, goal, met]
        print(_COLUMNS.format(*row), file=self._out, flush=True)


def run(names: list[str], sizes: Sizes, *, as_json: bool, write: bool, argv: list[str]) -> int:
    """Run ``names`` in order; print the table (stderr with --json) and write the results."""
    table_out = sys.stderr if as_json else sys.stdout
    table = LiveTable(table_out)
    document: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": sizes.quick,
        "repeats": sizes.repeats,
        "command": " ".join(["python -m bench", *argv]),
        "postgres": bool(sizes.postgres_url),
        "full_backlog": sizes.full_backlog,
        "machine": machine.describe(),
        "benchmarks": [],
    }
    table.header()
    failed = 0
    for name in names:
        module = load(name)
        table.section(f"{module.NAME}: {module.TITLE}")
        recorder = Recorder(module.NAME, table.show)
        entry: dict[str, Any] = {"name": module.NAME, "title": module.TITLE, "summary": module.SUMMARY}
        try:
            module.run(sizes, recorder)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            failed += 1
            entry["error"] = f"{exc.__class__.__name__}: {exc}"
            print(f"   FAILED: {entry['error']}", file=table_out, flush=True)
        entry["lines"] = [report.line_json(line) for line in recorder.lines]
        entry["profiles"] = recorder.profiles
        document["benchmarks"].append(entry)
    document["machine"]["load_average_at_end"] = machine.load_average()
    if write:
        _write(document, complete=not sizes.quick and list(names) == list(BENCHMARKS), out=table_out)
    if as_json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    return 1 if failed else 0


def _write(document: dict[str, Any], *, complete: bool, out: TextIO) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    target = RESULTS_DIR / ("latest.json" if complete else "partial.json")
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {target}", file=out)
    if complete:
        DOC_PATH.write_text(report.markdown(document))
        print(f"report: {DOC_PATH}", file=out)
