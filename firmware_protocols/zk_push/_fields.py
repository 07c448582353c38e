"""Small text helpers shared by the ADMS parsers and builders."""

from __future__ import annotations

from firmware_protocols.zk_push.errors import ZkPushLocalError

FORBIDDEN_IN_FIELD = ("\t", "\r", "\n", "\x00")


def split_lines(text: str) -> list[str]:
    """Non-blank lines of a body; LF or CRLF separated (terminals use both)."""
    return [line.rstrip("\r") for line in text.split("\n") if line.strip("\r \x00")]


def key_values(text: str, separator: str) -> list[tuple[str, str]]:
    """``K=V`` items split on ``separator``; items without ``=`` are skipped."""
    items: list[tuple[str, str]] = []
    for item in text.split(separator):
        key, equals, value = item.partition("=")
        if equals and key.strip():
            items.append((key.strip(), value))
    return items


def first(items: list[tuple[str, str]], key: str, default: str = "") -> str:
    """The value of ``key`` (case-insensitive), or ``default``."""
    wanted = key.casefold()
    return next((value for name, value in items if name.casefold() == wanted), default)


def checked_field(value: str, what: str) -> str:
    """``value`` unchanged, or ZkPushLocalError if it would break the tab/line framing."""
    if any(bad in value for bad in FORBIDDEN_IN_FIELD):
        raise ZkPushLocalError(f"{what} must not contain tabs, newlines or NUL: {value!r}")
    return value
