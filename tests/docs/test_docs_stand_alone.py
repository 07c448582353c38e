"""The project's documents stand alone: README files and docs/ never send a reader outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", ROOT / "cloud/README.md", *sorted((ROOT / "docs").rglob("*.md"))]
OUTSIDE = re.compile(r"\.\./shared|shared/(DESIGN|PROTOCOLS|PRIVACY|STYLE)\.md")
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def test_no_document_points_at_the_design_folder_beside_the_repository() -> None:
    found = [
        f"{d.relative_to(ROOT)}: {m.group(0)}" for d in DOCUMENTS for m in OUTSIDE.finditer(d.read_text())
    ]
    assert found == []


def test_every_relative_link_resolves_inside_the_repository() -> None:
    broken = []
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (document.parent / target).resolve()
            if not resolved.exists() or ROOT not in resolved.parents:
                broken.append(f"{document.relative_to(ROOT)} → {target}")
    assert broken == []
