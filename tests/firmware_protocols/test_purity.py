"""firmware_protocols imports only the standard library (shared/STYLE.md §1) and does no I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import firmware_protocols

PACKAGE = Path(firmware_protocols.__file__).parent
# Standard-library modules that do I/O, sleep, log or talk to the network: never in a codec.
FORBIDDEN_STDLIB = {"asyncio", "socket", "logging", "time", "select", "selectors", "subprocess", "threading"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_codecs_import_only_the_standard_library() -> None:
    offenders: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        foreign = {
            name
            for name in imported_top_levels(path)
            if name != "firmware_protocols"
            and (name not in sys.stdlib_module_names or name in FORBIDDEN_STDLIB)
        }
        if foreign:
            offenders[str(path.relative_to(PACKAGE))] = foreign
    assert offenders == {}


def test_the_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import asyncio\nfrom serial import Serial\nimport json\n")
    assert imported_top_levels(sample) == {"asyncio", "serial", "json"}
