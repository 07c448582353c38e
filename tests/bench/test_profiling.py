"""``--profile``'s parts: ranking collapsed stacks, and py-spy sampling a real process from outside."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

from bench.profiling import SQLITE_WORK, rank, sampling

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


def _aiosqlite_line(text: str) -> int:
    source = Path(importlib.util.find_spec("aiosqlite.core").origin or "").read_text().splitlines()
    return next(number for number, line in enumerate(source, 1) if text in line)


def test_rank_names_sqlite_at_work_on_aiosqlites_thread_and_leaves_its_wait_out() -> None:
    """aiosqlite's worker runs a statement and waits for the next from the same function: by line."""
    worker = "_connection_worker_thread (aiosqlite/core.py:{line})"
    working = worker.format(line=_aiosqlite_line("function()"))
    waiting = worker.format(line=_aiosqlite_line(".get("))
    collapsed = "\n".join(
        [
            f"_bootstrap (threading.py:1);{working} 60",
            f"_bootstrap (threading.py:1);{waiting} 30",
            "run (cloud/cli.py:1);store_batch (cloud/ingest/store.py:9) 40",
        ]
    )
    top = rank(collapsed)
    assert top[0] == "waiting (left out below): 23% of all samples"  # 30 of 130
    assert top[1] == f"self 60%: {SQLITE_WORK}"  # 60 of the 100 working samples
    assert top[2] == "self 40%: store_batch (cloud/ingest/store.py)"


def test_rank_glosses_the_event_loops_own_frame() -> None:
    top = rank("main (cloud/cli.py:1);Runner.run (asyncio/runners.py:118) 10")
    assert top[1].startswith("self 100%: Runner.run (asyncio/runners.py), the event loop's C code (uvloop)")
