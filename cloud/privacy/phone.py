"""Phone numbers in one canonical form (E.164), so the HMAC lookup column matches however it was typed."""

from __future__ import annotations

import re
from typing import Final

DEFAULT_COUNTRY_CODE: Final = "86"
_SEPARATORS: Final = re.compile(r"[\s\-().\u00a0]")
_E164_DIGITS: Final = re.compile(r"[1-9][0-9]{6,14}")


def normalise_phone(raw: str, *, default_country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """``+<country><number>``: no separators, ``00`` read as ``+``, the default code for national numbers."""
    compact = _SEPARATORS.sub("", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    # A national number loses its trunk prefix 0 (e.g. 010-… in Beijing) and gains the country code.
    national = default_country_code + compact.removeprefix("0")
    digits = compact[1:] if compact.startswith("+") else national
    if not _E164_DIGITS.fullmatch(digits):
        raise ValueError(f"not a phone number: {raw!r}")
    return "+" + digits
