"""Third-party clients in private ``pip install --target`` directories under ``.clients/``.

pyalphasign and alphasignpy both install the top-level package ``alphasign`` (PROTOCOLS.md §7.1), so
each lives in its own directory and runs in a subprocess with ``PYTHONPATH`` pointing at it.
Creation is idempotent and safe for parallel runs: an exclusive file lock, an install into a
temporary directory, then an atomic rename; a marker file records the requirement installed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / ".clients"
MARKER = ".requirement"


def _ready(target: Path, requirement: str) -> bool:
    marker = target / MARKER
    return marker.exists() and marker.read_text(encoding="utf-8") == requirement


def ensure_client_env(name: str, requirement: str) -> Path:
    """The directory holding ``requirement`` installed alone (created on first use)."""
    target = ROOT / name
    if _ready(target, requirement):
        return target
    ROOT.mkdir(parents=True, exist_ok=True)
    with (ROOT / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ready(target, requirement):
            _install(target, requirement)
    return target


def _install(target: Path, requirement: str) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=ROOT))
    try:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        # ``requirement`` may name several packages, space-separated ("iclockhelper==0.0.4 setuptools<81").
        subprocess.run([*command, "--target", str(staging), *requirement.split()], check=True, timeout=300)
        (staging / MARKER).write_text(requirement, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_client(env: Path, script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``python -c`` and only ``env`` (plus the interpreter's stdlib) importable first."""
    environment = {**os.environ, "PYTHONPATH": str(env), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
