"""``bench.import_memory``: each module charged its own resident memory, its imports' growth not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import report
from bench.import_memory import attribute

ROOT = Path(__file__).resolve().parents[2]
MIB = 1 << 20

# The parent allocates 8 MiB itself and imports a child that allocates 24 MiB (bytes written, so
# the pages are touched and resident); the entry point then allocates 40 MiB, after every import.
PARENT = """
import heavy_child
parent_block = b"p" * (8 << 20)
def main():
    global late_block
    late_block = b"l" * (40 << 20)
    return 0
"""
CHILD = 'child_block = b"c" * (24 << 20)\n'


def _ledger(tmp_path: Path) -> dict[str, dict[str, int]]:
    (tmp_path / "heavy_parent.py").write_text(PARENT)
    (tmp_path / "heavy_child.py").write_text(CHILD)
    ledger = tmp_path / "ledger.json"
    argv = [sys.executable, "-m", "bench.import_memory", str(ledger), "--", "heavy_parent:main"]
    env = {"PYTHONPATH": f"{ROOT}:{tmp_path}", "PATH": "/usr/bin:/bin"}
    subprocess.run(argv, check=True, timeout=60, env=env, cwd=ROOT)
    result: dict[str, dict[str, int]] = json.loads(ledger.read_text())
    return result


def test_each_module_is_charged_its_own_growth_not_its_imports(tmp_path: Path) -> None:
    own_mib = {name: kib / 1024 for name, kib in _ledger(tmp_path)["own_kib"].items()}
    assert 23 <= own_mib["heavy_child"] <= 26, own_mib["heavy_child"]
    # Control: without the nested subtraction the parent would be charged 32 MiB, not its own 8.
    assert 7 <= own_mib["heavy_parent"] <= 10, own_mib["heavy_parent"]
    # What the program did after its imports (the 40 MiB) is charged to no module.
    assert sum(own_mib.values()) < 45


def test_attribute_splits_resident_memory_into_start_imports_by_package_and_the_rest() -> None:
    ledger = {"start_kib": 10 * 1024, "own_kib": {"pkg.a": 3 * 1024, "pkg.b": 1024, "other": 512}}
    lines = attribute(ledger, idle_rss_mib=20.0)
    assert lines[0] == (
        "VmRSS 20.0 MiB = the interpreter before any import 10.0 + imports 4.5 + running "
        "(threads, connection, buffers, allocator) 5.5"
    )
    assert lines[1:] == ["import pkg: 4.0 MiB (2 modules)", "import other: 0.5 MiB (1 module)"]


def test_the_report_says_how_each_profile_was_taken() -> None:
    bench = {
        "name": "b",
        "title": "t",
        "summary": "",
        "lines": [],
        "profiles": {
            "sampled": ["self 50%: f (cloud/x.py)"],  # results written before profiles said how
            "memory": {"how": "imports measured", "top": ["import pkg: 4.0 MiB (2 modules)"]},
        },
    }
    machine = dict.fromkeys(("nproc", "cpu_model", "platform", "python", "implementation", "sqlite"), "")
    machine |= {"mosquitto": "", "load_average_at_start": [0.0, 0.0, 0.0]}
    text = report.markdown({"date": "", "repeats": 3, "machine": machine, "benchmarks": [bench]})
    assert "Profile of `sampled` (py-spy, an extra untimed repeat; share of samples):" in text
    assert "Profile of `memory` (imports measured):\n\n- import pkg: 4.0 MiB (2 modules)" in text
