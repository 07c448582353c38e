"""Folding a partial run into the full run: only the re-measured benchmarks change, and the doc says so."""

from __future__ import annotations

from typing import Any

import pytest

from bench import report
from bench.splice import splice


def _run(date: str, names: list[str], value: float, *, quick: bool = False) -> dict[str, Any]:
    machine = {
        "nproc": 2,
        "cpu_model": "cpu",
        "platform": "linux",
        "python": "3.11",
        "implementation": "CPython",
        "sqlite": "3",
        "mosquitto": "mosquitto",
        "load_average_at_start": [1.0, 1.0, 1.0],
        "load_average_at_end": [2.0, 2.0, 2.0],
    }
    line = {
        "key": "k",
        "label": "a line",
        "role": "ours",
        "unit": "punches/s",
        "median": value,
        "min": value,
        "max": value,
        "samples": [value],
        "against": None,
        "why": "",
        "goal": None,
        "row": "a",
    }
    benches = [
        {"name": n, "title": n, "summary": "", "lines": [dict(line, key=n)], "profiles": {}} for n in names
    ]
    return {
        "date": date,
        "quick": quick,
        "repeats": 3,
        "command": f"python -m bench {' '.join(f'--only {n}' for n in names)}",
        "machine": machine,
        "benchmarks": benches,
    }


def test_only_the_remeasured_benchmarks_change_and_the_preamble_names_them() -> None:
    full = _run("2026-12-03T15:00", ["codecs", "cloud_ingest", "site_latency"], 1.0)
    partial = _run("2026-12-03T17:00", ["cloud_ingest"], 9.0)
    spliced = splice(full, partial)
    medians = {b["name"]: b["lines"][0]["median"] for b in spliced["benchmarks"]}
    assert medians == {"codecs": 1.0, "cloud_ingest": 9.0, "site_latency": 1.0}
    assert spliced["date"] == full["date"]
    doc = report.markdown(spliced)
    assert "re-measured later, in a partial full-size run: `cloud_ingest` on 2026-12-03T17:00" in doc
    again = splice(spliced, _run("2026-12-03T18:00", ["cloud_ingest"], 7.0))
    assert [n["date"] for n in again["remeasured"]] == ["2026-12-03T18:00"]  # the older note is gone


def test_a_quick_or_unknown_partial_run_is_refused() -> None:
    full = _run("2026-12-03T15:00", ["codecs"], 1.0)
    with pytest.raises(ValueError, match="quick"):
        splice(full, _run("t", ["codecs"], 2.0, quick=True))
    with pytest.raises(ValueError, match="not in the full run"):
        splice(full, _run("t", ["rankings"], 2.0))
    assert report.markdown(full).count("re-measured") == 0  # control: no note without a splice
