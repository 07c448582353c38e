"""The scale-out section says how far sizing by the per-worker rate holds, from the measured speed-up."""

from __future__ import annotations

from typing import Any

from bench.sizing import sizing_section


def _run(one: float, two: float) -> dict[str, Any]:
    lines = [
        {"key": "postgresql", "median": one},
        {"key": "two-workers", "median": two},
        {"key": "per-worker", "median": two / 2},
    ]
    return {"benchmarks": [{"lines": lines}]}


def test_a_near_double_speed_up_sizes_by_the_per_worker_rate() -> None:
    text = sizing_section(_run(1_000, 1_900))
    assert "×1.90 for two" in text
    assert "beyond the measured ×2, size PostgreSQL first" in text
    assert "| 1M-event backlog recovered in 90 s | 11,111 | 12 |" in text  # ceil(11,111 / 950)


def test_two_workers_slower_than_one_are_explained_not_extrapolated_silently() -> None:
    text = sizing_section(_run(2_903, 2_401))
    assert "×0.83" in text
    assert "share its two cores" in text
    assert "beyond the measured ×2" not in text  # control: the claim the faster run makes
