"""``--profile``'s parts: ranking collapsed stacks, and py-spy sampling a real process from outside."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.profiling import rank, sampling

SPIN = """
import sys, time
def spin_in_the_bench_child():
    print("spinning", flush=True)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        sum(range(1000))
spin_in_the_bench_child()
"""


def test_rank_names_the_leaf_and_our_callers_by_share() -> None:
    collapsed = "\n".join(
        [
            "main (cloud/app.py:1);handle (cloud/ingest/handling.py:9);execute (sqlalchemy/engine.py:3) 60",
            "main (cloud/app.py:1);encode (firmware_protocols/sync/messages.py:5) 40",
            "garbage line",
        ]
    )
    top = rank(collapsed)
    assert top[0] == "waiting (left out below): 0% of all samples"
    assert top[1] == "self 60%: execute (sqlalchemy/engine.py)"
    assert "self 40%: encode (firmware_protocols/sync/messages.py)" in top
    assert "under ours 100%: main (cloud/app.py)" in top
    assert "under ours 60%: handle (cloud/ingest/handling.py)" in top


def test_rank_leaves_waiting_frames_out_of_the_shares() -> None:
    collapsed = "\n".join(
        [
            "run (cloud/cli.py:1);select (selectors.py:469) 75",
            "run (cloud/cli.py:1);ranked (cloud/domain/ranking.py:8) 25",
        ]
    )
    assert rank(collapsed)[:2] == [
        "waiting (left out below): 75% of all samples",
        "self 100%: ranked (cloud/domain/ranking.py)",
    ]


def test_rank_of_an_empty_profile_says_so() -> None:
    assert rank("") == ["(no samples)"]


def test_sampling_a_running_process_names_its_hot_function(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "spinning"
        output = tmp_path / "profile.txt"
        with sampling(child.pid, output) as profile:
            time.sleep(1.0)  # a second of samples: the length of the recording, not a wait for an event
        assert any("spin_in_the_bench_child" in entry for entry in profile.top), profile.top
    finally:
        child.kill()
        child.communicate()
