"""The whole benchmark suite runs at tiny sizes and reports well-formed rows (speed is never asserted).

One ``python -m bench --smoke --json --no-write`` run starts every real process the full run starts
(Mosquitto, ``mpm-cloud serve``, ``mpm-agent run``, the simulators, wrk and the paced generator), so
a change that breaks a bench fails here instead of in the lead's final run.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import report
from bench.runner import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke_run() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", "--no-write"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@pytest.mark.timeout(450)
def test_every_bench_runs_and_reports_well_formed_lines(smoke_run: dict[str, Any]) -> None:
    assert [bench["name"] for bench in smoke_run["benchmarks"]] == list(BENCHMARKS)
    for bench in smoke_run["benchmarks"]:
        assert "error" not in bench, f"{bench['name']}: {bench.get('error')}"
        assert bench["lines"], bench["name"]
        limits = {line["key"] for line in bench["lines"] if line["role"] == "limit"}
        for line in bench["lines"]:
            assert line["role"] in ("ours", "limit")
            assert line["unit"]
            assert line["label"]
            assert line["samples"]
            assert all(math.isfinite(sample) for sample in line["samples"])
            assert line["against"] is None or line["against"] in limits, line


@pytest.mark.timeout(450)
def test_every_row_of_the_issue_table_is_filled(smoke_run: dict[str, Any]) -> None:
    rows = {line["row"] for bench in smoke_run["benchmarks"] for line in bench["lines"] if line["row"]}
    assert rows == set(report.ROWS)
    goals = [line for bench in smoke_run["benchmarks"] for line in bench["lines"] if line["row"]]
    assert all(line["goal"] is not None for line in goals)


@pytest.mark.timeout(450)
def test_the_report_renders_the_table_from_a_run(smoke_run: dict[str, Any]) -> None:
    text = report.markdown(smoke_run)
    for letter in report.ROWS:
        assert f"\n| {letter} | " in text
    assert "not measured in this run" not in text
    assert text.count("## ") == len(BENCHMARKS) + 2  # the table, scaling out, one per bench
