"""Scratch directories on the real disk: fsync on tmpfs costs nothing and would flatter every figure."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_DEFAULT_PARENT = "/var/tmp"


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh directory under ``$MPM_BENCH_DIR`` (default /var/tmp), removed afterwards."""
    parent = os.environ.get("MPM_BENCH_DIR", _DEFAULT_PARENT)
    with tempfile.TemporaryDirectory(prefix=f"mpm-bench-{prefix}-", dir=parent) as path:
        yield Path(path)
