"""Strict JSON for the contract: only values every receiver can store, show and send on.

Python's ``json`` accepts more than the contract can carry: ``NaN``/``Infinity`` (and ``1e400``,
which parses to infinity), integers of thousands of digits (and raises a bare ``ValueError`` past
4,300), and ``\\ud800`` escapes that leave a lone surrogate in a string, which no UTF-8 encoder,
database column or sign can take. Rules, checked here once for every message:

- numbers are finite; integers fit in 64 bits (−2^63 … 2^64−1);
- no string, key or value, at any depth, holds a lone surrogate.

The number rules are enforced while parsing (the ``parse_*`` hooks). A lone surrogate can only come
from a ``\\uD800``–``\\uDFFF`` escape (raw UTF-8 cannot encode one), so the tree is walked only
when the text holds such an escape: the common payload pays for one regex search.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final

from firmware_protocols.sync.errors import SyncProtocolError

INT_MIN: Final = -(1 << 63)
INT_MAX_UNSIGNED: Final = (1 << 64) - 1
_MAX_INT_CHARS: Final = 21  # "-9223372036854775808" is 20 chars; longer literals are out of range anyway
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> float:
    raise SyncProtocolError(f"{name} is not a JSON number the contract carries (finite numbers only)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise SyncProtocolError(f"number {text[:40]!r} overflows a 64-bit float")
    return value


def _bounded_int(text: str) -> int:
    value = int(text) if len(text) <= _MAX_INT_CHARS else None
    if value is None or not INT_MIN <= value <= INT_MAX_UNSIGNED:
        raise SyncProtocolError(f"integer {text[:40]!r} does not fit in 64 bits")
    return value


def loads(text: str, where: str) -> object:
    """Parse ``text`` as contract JSON: finite numbers, 64-bit integers, no lone surrogates."""
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except SyncProtocolError as exc:
        raise SyncProtocolError(f"{where}: {exc}") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise SyncProtocolError(f"{where}: not JSON ({exc.__class__.__name__})") from None
    if _SURROGATE_ESCAPE.search(text):
        check_value(value, where)
    return value


def check_value(value: object, where: str) -> None:
    """Raise ``SyncProtocolError`` naming the path of a value the contract cannot carry, if any.

    For values that did not come through ``loads`` (parsed leniently, or built in memory). The walk
    keeps its own stack, so nesting depth cannot exhaust Python's.
    """
    stack: list[tuple[str, object]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX_UNSIGNED:
                raise SyncProtocolError(f"{path}: integer does not fit in 64 bits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise SyncProtocolError(f"{path}: {item} is not a finite number")
        elif isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise SyncProtocolError(f"{path}: object keys must be strings")
                _check_text(key, f"{path} (a key)")
                stack.append((f"{path}.{key[:40]}", inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{i}]", inner) for i, inner in enumerate(item))
        else:
            raise SyncProtocolError(f"{path}: {type(item).__name__} is not a JSON value")


def _check_text(text: str, path: str) -> None:
    if not text.isascii() and _LONE_SURROGATE.search(text):
        raise SyncProtocolError(f"{path}: holds a lone surrogate (not encodable as UTF-8)")
