"""Lookup lists (``column IN (…)``) written so each engine keeps few statement texts and index probes.

An ``IN`` list binds one parameter per value, so its length is part of the statement text the
driver sees. On SQLite (each execution planned anew) padding to the next power of two, repeating
the last value, which changes no result, leaves a handful of texts for every batch size.

On PostgreSQL padding is not the point: asyncpg prepares each text once per connection anyway.
There ``column IN (SELECT unnest(:array))`` binds the whole list as one array: one text for every
length, with no padding. Which plan the server runs for it is ``plan_cache``'s concern (a generic
plan kept from while a table was small scans it; ingest plans its reads with their values).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


def padded(values: list[T]) -> list[T]:
    """``values`` padded with its last value to the next power of two (an empty list stays empty)."""
    if not values:
        return values
    size = 1 << (len(values) - 1).bit_length()
    return values + [values[-1]] * (size - len(values))


def dialect_of(session: AsyncSession) -> str:
    """The name of the engine ``session`` runs on ("sqlite", "postgresql"): what ``among`` needs."""
    return session.get_bind().dialect.name


def among(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], name: str, dialect: str
) -> ColumnElement[bool]:
    """``column IN :name`` for the engine named ``dialect``; bind ``bound(values, dialect)`` to ``name``.

    PostgreSQL: ``column IN (SELECT unnest(CAST(:name AS type[])))``; others: an expanding ``IN``
    list. Either way the statement can be built once and run with any values.
    """
    if dialect == "postgresql":
        array = ARRAY(column.type)
        return column.in_(select(func.unnest(cast(bindparam(name, type_=array), array))))
    return column.in_(bindparam(name, expanding=True))


def bound(values: list[T], dialect: str) -> list[T]:
    """The value to bind to an ``among`` parameter: the list itself, or padded where it is a list of binds."""
    return values if dialect == "postgresql" else padded(values)
