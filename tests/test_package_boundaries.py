"""The packages import each other only as docs/ARCHITECTURE.md's table allows (first-party imports).

``led_faces`` exists so the cloud's dashboard and the simulators draw sign pictures with the same code
without the cloud importing ``simulators``; it may itself import only ``firmware_protocols`` and Pillow.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.firmware_protocols.test_purity import imported_top_levels

REPO = Path(__file__).parents[1]
FIRST_PARTY = {"firmware_protocols", "led_faces", "edge_agent", "cloud", "simulators"}
MAY_IMPORT = {
    "firmware_protocols": set(),
    "led_faces": {"firmware_protocols"},
    "edge_agent": {"firmware_protocols"},
    "cloud": {"firmware_protocols", "led_faces"},
    "simulators": {"firmware_protocols", "led_faces"},
}


def reaches(package: str) -> dict[str, set[str]]:
    """Per module of ``package``, the other first-party packages it imports beyond the table."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        foreign = (imported_top_levels(path) & FIRST_PARTY) - MAY_IMPORT[package] - {package}
        if foreign:
            found[str(path.relative_to(REPO))] = foreign
    return found


def test_no_package_reaches_into_another_beyond_the_table() -> None:
    assert {package: reaches(package) for package in MAY_IMPORT} == {package: {} for package in MAY_IMPORT}


def test_led_faces_needs_only_pillow_beyond_the_standard_library() -> None:
    third_party = set()
    for path in (REPO / "led_faces").rglob("*.py"):
        third_party |= {n for n in imported_top_levels(path) if n not in sys.stdlib_module_names}
    assert third_party - FIRST_PARTY == {"PIL"}


def test_the_check_detects_a_reach(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from simulators.alpha_sign import face\nimport cloud.app\n")
    assert imported_top_levels(sample) & FIRST_PARTY == {"simulators", "cloud"}
    assert {"simulators", "cloud"} - MAY_IMPORT["led_faces"] == {"simulators", "cloud"}
