"""The benchmark runner starts, measures and exits 0 (speed itself is never asserted in tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_codecs_run_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "codecs", "--no-write"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "TcpDecoder" in done.stdout
    assert "json.loads" in done.stdout
