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
    "_connection_worker_thread (aiosqlite/core.py)",
    "wait (threading.py)",
    "get (queue.py)",
    "_loop (paho/mqtt/client.py)",
    "select (select.py)",
)
TOP: Final = 8
_FRAME: Final = re.compile(r"^(?P<function>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


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
        frames = [_name(frame) for frame in stack.split(";") if frame]
        if not frames:
            continue
        if frames[-1].endswith(IDLE_LEAVES):
            idle += count
            continue
        total += count
        own[frames[-1]] += count
        for name in {frame for frame in frames if any(pkg in frame for pkg in OUR_PACKAGES)}:
            inclusive[name] += count
    if not total:
        return ["(no samples)"]
    lines = [f"waiting (left out below): {idle / (idle + total):.0%} of all samples"]
    lines += [f"self {count / total:.0%}: {name}" for name, count in own.most_common(TOP)]
    lines += [f"under ours {count / total:.0%}: {name}" for name, count in inclusive.most_common(TOP)]
    return lines


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
