"""CJK-capable bitmap text for LED signs: ``render_text("张三") -> Bitmap``.

The font is a GB2312 + ASCII subset of GNU Unifont shipped as package data (FONT-LICENSE.md), so a
fresh machine with only Python needs no download. Pure: standard library only.
"""

from firmware_protocols.glyphs.bitmap import Bitmap, blank, scaled, side_by_side
from firmware_protocols.glyphs.reading import read_text
from firmware_protocols.glyphs.render import covers, missing_glyph_box, render_text

__all__ = [
    "Bitmap",
    "blank",
    "covers",
    "missing_glyph_box",
    "read_text",
    "render_text",
    "scaled",
    "side_by_side",
]
