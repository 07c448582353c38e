"""Fold a partial run into the committed full run: ``python -m bench.splice``.

A partial run (``--only NAME``, full size) re-measures some benchmarks and writes
``bench/results/partial.json``. This replaces those benchmarks' entries in ``latest.json`` with the
partial run's, records which were re-measured (when, by which command, under which load), and
regenerates ``docs/BENCHMARKS.md``, whose preamble then names them. Every other figure stays the
full run's. A quick partial run is refused: its sizes are not the committed ones.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bench import report
from bench.runner import DOC_PATH, RESULTS_DIR


def splice(full: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """``full`` with the benchmarks ``partial`` measured replaced by ``partial``'s, and noted."""
    if partial.get("quick"):
        raise ValueError("partial.json is from a --quick run; re-measure at full size")
    fresh = {bench["name"]: bench for bench in partial["benchmarks"]}
    unknown = set(fresh) - {bench["name"] for bench in full["benchmarks"]}
    if unknown:
        raise ValueError(f"benchmarks not in the full run: {sorted(unknown)}")
    note = {
        "benchmarks": sorted(fresh),
        "date": partial["date"],
        "command": partial.get("command", "python -m bench"),
        "load_average_at_start": partial["machine"]["load_average_at_start"],
        "load_average_at_end": partial["machine"].get("load_average_at_end"),
    }
    earlier = [
        {**n, "benchmarks": [b for b in n["benchmarks"] if b not in fresh]}
        for n in full.get("remeasured", [])
    ]
    return full | {
        "benchmarks": [fresh.get(bench["name"], bench) for bench in full["benchmarks"]],
        "remeasured": [n for n in earlier if n["benchmarks"]] + [note],
    }


def main() -> int:
    latest, partial = RESULTS_DIR / "latest.json", RESULTS_DIR / "partial.json"
    try:
        document = splice(json.loads(latest.read_text()), json.loads(partial.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot splice: {exc}", file=sys.stderr)
        return 1
    latest.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    DOC_PATH.write_text(report.markdown(document))
    print(f"spliced {document['remeasured'][-1]['benchmarks']} into {latest} and {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
