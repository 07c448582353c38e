"""Scale-out sizing computed from a run: how many ingest workers a fleet needs at the measured rate.

The rule: a worker consumes at the per-worker rate measured with two workers on one PostgreSQL
(``cloud_ingest``'s ``per-worker`` line), so a load of R punches/s needs ceil(R / rate) workers,
as long as the database keeps up; the two-worker speed-up measured in the same run shows how far
that holds on this machine. Loads are a morning burst (every member checks in within 15 minutes)
and a backlog recovery (1M events within the 90 s goal).
"""

from __future__ import annotations

import math
from typing import Any, Final

BURST_MEMBERS_PER_SITE: Final = 200
BURST_WINDOW_S: Final = 15 * 60
FLEETS: Final = (100, 1_000, 10_000)
BACKLOG_EVENTS: Final = 1_000_000
BACKLOG_GOAL_S: Final = 90


def sizing_section(document: dict[str, Any]) -> str:
    """The "scaling out" part of docs/BENCHMARKS.md for this run."""
    lines = {row["key"]: row for bench in document["benchmarks"] for row in bench["lines"]}
    head = ["## Scaling out: sizing from the measured per-worker rate", ""]
    per_worker = lines.get("per-worker")
    if per_worker is None or not per_worker["median"]:
        note = "Not measured in this run: the two-worker line needs `--postgres-url` (see bench/README.md)."
        return "\n".join([*head, note, ""])
    rate = per_worker["median"]
    one = lines.get("postgresql")
    speedup = lines["two-workers"]["median"] / one["median"] if one and one["median"] else float("nan")
    body = [
        f"Measured: one worker {_n(one['median'] if one else float('nan'))} punches/s on PostgreSQL; two "
        f"workers in one shared subscription {_n(lines['two-workers']['median'])} in total, "
        f"{_n(rate)} per worker (×{speedup:.2f} for two). Workers needed, at {_n(rate)} punches/s each:",
        "",
        "| load | punches/s | ingest workers |",
        "|---|---:|---:|",
    ]
    for sites in FLEETS:
        need = sites * BURST_MEMBERS_PER_SITE / BURST_WINDOW_S
        label = f"{sites:,} sites × {BURST_MEMBERS_PER_SITE} members checking in within 15 min"
        body.append(f"| {label} | {_n(need)} | {math.ceil(need / rate)} |")
    need = BACKLOG_EVENTS / BACKLOG_GOAL_S
    body.append(
        f"| 1M-event backlog recovered in {BACKLOG_GOAL_S} s | {_n(need)} | {math.ceil(need / rate)} |"
    )
    body += ["", _how_far(speedup), ""]
    return "\n".join([*head, *body])


def _how_far(speedup: float) -> str:
    """What the measured two-worker speed-up says about sizing by the per-worker rate."""
    if speedup >= 1.5:
        return "This holds while the database keeps up: beyond the measured ×2, size PostgreSQL first."
    return (
        f"Here two workers gave ×{speedup:.2f}, not ×2: on this machine the two workers, PostgreSQL, "
        "the broker and the feeder share its two cores, and both workers score one organisation's "
        "members (the same balance rows) with one agent's batches alternating between them. The "
        "per-worker rate above is this machine's, CPU-bound: measure on the target hardware before "
        "sizing a fleet by it."
    )


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
