"""Build ``firmware_protocols/glyphs/unifont-gb2312.hex`` from a full GNU Unifont ``.hex`` file.

A developer tool, run by hand when the subset must change; nothing imports it at run time.
The subset holds every character that GB2312 can encode (6,763 hanzi, punctuation, full-width forms,
kana, Greek, Cyrillic) plus printable ASCII, in Unifont's own ``.hex`` line format
(``XXXX:<32 or 64 hex digits>``, 8×16 or 16×16 pixels, row-major, MSB = leftmost pixel).

Source: the Debian package ``unifont`` (``/usr/share/unifont/unifont.hex``; ``apt-get download unifont``
and ``dpkg-deb -x`` are enough, no install needed). Usage::

    python simulators/fonts/build_glyph_subset.py /path/to/unifont.hex \
        firmware_protocols/glyphs/unifont-gb2312.hex
"""

from __future__ import annotations

import sys
from pathlib import Path


def gb2312_characters() -> set[str]:
    """Every character that has a two-byte GB2312 code (rows 0xA1–0xF7, cells 0xA1–0xFE)."""
    found: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return found


def wanted_characters() -> set[str]:
    return gb2312_characters() | {chr(c) for c in range(0x20, 0x7F)}


def subset(source: Path, target: Path) -> int:
    """Copy the lines of ``source`` whose code point is wanted into ``target``; return the count."""
    wanted = {ord(c) for c in wanted_characters()}
    lines = [
        line
        for line in source.read_text(encoding="ascii").splitlines()
        if line and int(line.split(":", 1)[0], 16) in wanted
    ]
    target.write_text("\n".join(lines) + "\n", encoding="ascii")
    return len(lines)


if __name__ == "__main__":
    count = subset(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stdout.write(f"{count} glyphs written to {sys.argv[2]}\n")
