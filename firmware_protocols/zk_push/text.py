"""Body text encoding: UTF-8 first, then GBK, never a ``UnicodeDecodeError``.

Rule (PROTOCOLS.md §3.2): Chinese firmware often sends GBK; the ``language`` query parameter hints
it. GBK-encoded Chinese almost never forms valid UTF-8, while UTF-8 Chinese often *is* valid GBK
(as mojibake), so strict UTF-8 is always tried first and GB18030 (a superset of GBK) second. Only
bytes that are neither are decoded lossily, in the hinted encoding, with U+FFFD replacements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# ZKTeco language codes whose firmware speaks GBK [unverified: 83 = Simplified Chinese is what the
# open server implementations and terminal menus show; other Chinese locales may exist].
GBK_LANGUAGES: Final[Mapping[str, str]] = {"83": "Simplified Chinese"}

UTF8: Final = "utf-8"
GBK: Final = "gb18030"


def wants_gbk(language: str) -> bool:
    """True when the terminal's ``language`` code means its text is GBK."""
    return language.strip() in GBK_LANGUAGES


def decode_text(body: bytes, language: str = "") -> str:
    """Decode a body: strict UTF-8, then strict GB18030, then lossy in the hinted encoding."""
    for encoding in (UTF8, GBK):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode(GBK if wants_gbk(language) else UTF8, errors="replace")


def encode_text(text: str, language: str = "") -> bytes:
    """Encode text for a terminal: GB18030 when its language is Chinese, UTF-8 otherwise."""
    return text.encode(GBK if wants_gbk(language) else UTF8)
