"""Where a goal is missed, ``--profile`` samples the process under test with py-spy and names the
functions that hold the CPU.

py-spy attaches from outside (ptrace), so the process is profiled as it runs in production, with no
profiler imported into it. It samples during one extra, untimed repeat (never during the timed ones),
writes collapsed stacks (``frame;frame;frame count``), and we rank functions two ways: *self* (the
leaf frame, where the CPU actually is) and *inclusive* within our own packages (which of our
functions the time is spent under).
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

OUR_PACKAGES: Final = ("cloud/", "edge_agent/", "firmware_protocols/", "simulators/")
# Leaf frames that are waiting, not working: the event loop's poll, aiosqlite's worker thread waiting
# for its next statement, paho's network loop, a thread blocked on a lock or a queue. py-spy samples
# them as active (they wake up on timeouts); they are counted apart so the ranking shows the work.
IDLE_LEAVES: Final = (
    "select (selectors.py)",
    "wait (threading.py)",
    "get (queue.py)",
    "_loop (paho/mqtt/client.py)",
    "select (select.py)",
)
TOP: Final = 8
_FRAME: Final = re.compile(r"^(?P<function>.+?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")
# aiosqlite runs each statement on its worker thread by calling a C function (sqlite3's execute)
# from ``_connection_worker_thread``, and waits for the next one there too (a C ``SimpleQueue.get``):
# the line number tells them apart. A statement running is SQLite's own work, and is named so.
_AIOSQLITE_WORKER: Final = "_connection_worker_thread (aiosqlite/core.py)"
SQLITE_WORK: Final = "SQLite executing statements (C, on aiosqlite's thread)"
# With uvloop the event loop is C code under ``Runner.run``, and so are the C/Cython callbacks it
# runs (asyncpg's protocol parsing replies): its samples are those, or polling.
_LOOP_GLOSSES: Final = {
    "Runner.run (asyncio/runners.py)": "the event loop's C code (uvloop) and the C callbacks it runs"
}


def py_spy() -> str:
    """The py-spy binary (beside this interpreter or on PATH); a clear error when it is missing."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("--profile needs py-spy: pip install py-spy (it is in the dev extras)")
    return found


class Profile:
    """The ranked functions of one profile, filled when the ``sampling`` block ends."""

    def __init__(self) -> None:
        self.top: list[str] = []


@contextmanager
def sampling(pid: int, output: Path) -> Iterator[Profile]:
    """Sample ``pid`` with py-spy for the duration of the block; ``Profile.top`` afterwards."""
    command = [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--output", str(output)]
    command += ["--rate", "200", "--nonblocking"]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    profile = Profile()
    try:
        yield profile
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            _out, err = spy.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            _out, err = spy.communicate()
    if not output.exists():
        raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-400:]}")
    profile.top = rank(output.read_text(errors="replace"))


def rank(collapsed: str) -> list[str]:
    """The share of waiting samples, then ``self`` and ``under ours`` top functions by share of the rest."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        raw = [frame for frame in stack.split(";") if frame]
        frames = [_name(frame) for frame in raw]
        if not frames:
            continue
        leaf = _working_leaf(raw[-1], frames[-1])
        if leaf is None:
            idle += count
            continue
        frames[-1] = leaf
        total += count
        own[frames[-1]] += count
        for name in {frame for frame in frames if any(pkg in frame for pkg in OUR_PACKAGES)}:
            inclusive[name] += count
    if not total:
        return ["(no samples)"]
    lines = [f"waiting (left out below): {idle / (idle + total):.0%} of all samples"]
    lines += [f"self {count / total:.0%}: {_glossed(name)}" for name, count in own.most_common(TOP)]
    lines += [f"under ours {count / total:.0%}: {name}" for name, count in inclusive.most_common(TOP)]
    return lines


def _glossed(name: str) -> str:
    gloss = _LOOP_GLOSSES.get(name)
    return f"{name}, {gloss}" if gloss else name


def _working_leaf(raw: str, name: str) -> str | None:
    """The name a leaf frame (``raw``, shortened to ``name``) is ranked under; None when it waits."""
    if name.endswith(IDLE_LEAVES):
        return None
    if name != _AIOSQLITE_WORKER:
        return name
    match = _FRAME.match(raw.strip())
    line = int(match["line"]) if match and match["line"] else 0
    return None if line in _aiosqlite_wait_lines() else SQLITE_WORK


@functools.cache
def _aiosqlite_wait_lines() -> frozenset[int]:
    """The lines of aiosqlite's worker loop that wait for work (``tx.get()``), read from its source."""
    spec = importlib.util.find_spec("aiosqlite.core")
    if spec is None or spec.origin is None:
        return frozenset()
    source = Path(spec.origin).read_text().splitlines()
    return frozenset(number for number, line in enumerate(source, 1) if ".get(" in line)


def _name(frame: str) -> str:
    """``function (path/to/file.py:12)`` → ``function (file path from the package root)``."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", *OUR_PACKAGES, "lib/python3"):
        at = path.find(marker)
        if at >= 0:
            path = path[at + (len(marker) if marker == "site-packages/" else 0) :]
            break
    return f"{match['function']} ({path})"
