"""Lookup lists (``column IN (…)``) padded to a few lengths, so their statements stay cached.

An ``IN`` list binds one parameter per value, so its length is part of the statement text the
driver sees: on PostgreSQL every new length is a new statement to prepare and plan (the driver's
statement cache is keyed by text). Padding to the next power of two (repeating the last value,
which changes no result) leaves a handful of texts for every batch size from 1 to thousands.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def padded(values: list[T]) -> list[T]:
    """``values`` padded with its last value to the next power of two (an empty list stays empty)."""
    if not values:
        return values
    size = 1 << (len(values) - 1).bit_length()
    return values + [values[-1]] * (size - len(values))
