"""The machine a run was measured on: cores, CPU model, Python, SQLite, load (the box is shared)."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or the platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mosquitto_version() -> str:
    """``mosquitto -h`` prints its version on the first line."""
    try:
        done = subprocess.run(["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "unknown"


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on a shared box shows here."""
    return [round(x, 2) for x in os.getloadavg()]


def describe() -> dict[str, Any]:
    """Everything needed to compare this run with another machine's."""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "mosquitto": mosquitto_version(),
        "load_average_at_start": load_average(),
    }
