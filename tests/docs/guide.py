"""Command blocks of a Markdown guide, in reading order: what an installer would type.

Rule: every fenced block whose info string is ``sh`` is a command block; other fences (``toml``,
``ini``, ``text``…) show files or output and are not run. A block is run as one unit, in order, in
one shell, so a variable set in one block (``ADMIN=$(…)``) is there for the next.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[\w-]*)\s*$")
HEADING = re.compile(r"^#{1,6} ")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CommandBlock:
    path: Path
    line: int  # 1-based line of the opening fence
    section: str  # the nearest heading above the block
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line} ({self.section})"


def command_blocks(path: Path) -> list[CommandBlock]:
    """The ``sh`` blocks of ``path``, with the heading each sits under."""
    blocks: list[CommandBlock] = []
    section = ""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if HEADING.match(line):  # fence contents are skipped below, so shell comments never get here
            section = line.lstrip("#").strip()
        fence = FENCE.match(line)
        if fence is None:
            index += 1
            continue
        indent = len(fence["indent"])
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if fence["info"] == "sh":
            body = "\n".join(text[indent:] for text in lines[index + 1 : end])
            blocks.append(CommandBlock(path=path, line=index + 1, section=section, text=body))
        index = end + 1
    return blocks
