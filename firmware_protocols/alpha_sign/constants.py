"""Protocol facts of the Alpha Sign Communications Protocol (M-Protocol 9708-8061F) as tables.

Sources: shared/PROTOCOLS.md §1.1, cross-checked against pyalphasign, alphasignpy and msparks/alphasign.
"""

from __future__ import annotations

from typing import Final

# Framing bytes.
NUL: Final = 0x00
SOH: Final = 0x01
STX: Final = 0x02
ETX: Final = 0x03
EOT: Final = 0x04
ESC: Final = 0x1B
FRAMING_BYTES: Final = frozenset({SOH, STX, ETX, EOT})

SYNC_NULS: Final = 5
"""Every client sends 5 NULs before SOH; the sign autobauds on them."""
RESPONSE_SYNC_NULS: Final = 20
"""A sign's response has a longer NUL preamble (alphasignpy's comment)."""

BROADCAST_ADDRESS: Final = "00"
WILDCARD_DIGIT: Final = "?"

TYPE_CODES: Final[dict[str, str]] = {
    "Z": "all signs",
    "^": "BetaBrite",
    "!": "all signs, verify (sign shows TRANSMISSION OK/ERROR)",
    "0": "response from a sign",
    "1": "all one-line signs",
    "2": "all two-line signs",
    "?": "all signs except BetaBrite",
}
RESPONSE_TYPE_CODE: Final = "0"

# Command codes: the byte after STX.
COMMAND_CODES: Final[dict[str, str]] = {
    "A": "write TEXT file",
    "B": "read TEXT file",
    "E": "write SPECIAL FUNCTION",
    "F": "read SPECIAL FUNCTION",
    "G": "write STRING file",
    "H": "read STRING file",
    "I": "write SMALL DOTS picture",
    "J": "read SMALL DOTS picture",
    "K": "write RGB DOTS picture",
    "L": "read RGB DOTS picture",
    "M": "write LARGE DOTS picture",
    "N": "read LARGE DOTS picture",
    "O": "write AlphaVision bulletin",
    "T": "set timeout message",
}
READ_TO_WRITE_CODE: Final[dict[str, str]] = {"B": "A", "F": "E", "H": "G", "J": "I", "L": "K", "N": "M"}
"""A sign answers a read command with the matching write command holding the data."""

PRIORITY_TEXT_LABEL: Final = "0"
DEFAULT_TEXT_LABEL: Final = "A"

POSITIONS: Final[dict[str, str]] = {
    " ": "middle line",
    '"': "top line",
    "&": "bottom line",
    "0": "fill",
    "1": "left (Alpha 3.0)",
    "2": "right (Alpha 3.0)",
}
MODES: Final[dict[str, str]] = {
    "a": "rotate",
    "b": "hold",
    "c": "flash",
    "e": "roll up",
    "f": "roll down",
    "g": "roll left",
    "h": "roll right",
    "i": "wipe up",
    "j": "wipe down",
    "k": "wipe left",
    "l": "wipe right",
    "m": "scroll",
    "n": "special mode (one more byte follows)",
    "o": "automode",
    "p": "roll in",
    "q": "roll out",
    "r": "wipe in",
    "s": "wipe out",
    "t": "compressed rotate",
    "u": "explode (Alpha 3.0)",
    "v": "clock (Alpha 3.0)",
}
SPECIAL_MODE: Final = "n"

SPECIAL_FUNCTIONS: Final[dict[str, str]] = {
    " ": "set time of day HHMM",
    ";": "set date MMDDYY",
    "&": "set day of week 1-7",
    "$": "set memory configuration (clears memory); bare = clear memory",
    "'": "time format S/M",
    "!": "speaker on/off",
    "(": "generate tone",
    ",": "soft reset",
    ".": "set run sequence",
    ")": "set run time table",
    "7": "set serial address",
    "/": "dimming (Solar)",
    "@": "dimming (Alpha 2.0/3.0)",
}
SET_TIME: Final = " "
SET_DATE: Final = ";"
SET_DAY_OF_WEEK: Final = "&"
MEMORY_CONFIGURATION: Final = "$"

FILE_TYPES: Final[dict[str, str]] = {"A": "TEXT", "B": "STRING", "D": "DOTS"}
LOCK_FLAGS: Final[dict[str, str]] = {"U": "unlocked", "L": "locked"}
MEMORY_ENTRY_LENGTH: Final = 11
"""label, type, lock, 4 hex digits of size, 4 characters of times (or colour depth for DOTS)."""

# Control codes inside a TEXT message: code → number of argument bytes that follow it.
CALL_STRING: Final = 0x10
CALL_SMALL_DOTS: Final = 0x14
NEW_LINE: Final = 0x0D
NEW_PAGE: Final = 0x0C
CONTROL_ARGUMENTS: Final[dict[int, int]] = {
    0x1C: 1,  # colour 1-9/A-C; 'Z' + RRGGBB on Alpha 3.0 (handled by the reader)
    0x1A: 1,  # font
    0x10: 1,  # call STRING file
    0x14: 1,  # call SMALL DOTS picture
    0x0B: 1,  # call date format
    0x07: 1,  # flash on/off
    0x05: 1,  # double height on/off
    0x13: 0,  # call time
    0x12: 0,  # wide on
    0x11: 0,  # wide off
    0x15: 0,  # speed 1
    0x16: 0,  # speed 2
    0x17: 0,  # speed 3
    0x18: 0,  # speed 4
    0x19: 0,  # speed 5
    0x1B: 2,  # ESC position mode: a new segment (plus one byte when mode is 'n')
}
COLOUR_RGB: Final = ord("Z")
