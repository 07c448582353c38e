"""Lookup lists (``column IN (…)``) written so each engine keeps few statement texts and index probes.

An ``IN`` list binds one parameter per value, so its length is part of the statement text the
driver sees. On SQLite (each execution planned anew) padding to the next power of two, repeating
the last value, which changes no result, leaves a handful of texts for every batch size.

On PostgreSQL that is not enough: asyncpg prepares each text once per connection, and after five
executions the server may switch a prepared statement to a *generic* plan, made without the
values. For ``agent_pk = $1 AND event_id IN ($2 … $129)`` (or ``= ANY($2)``) on a table growing
faster than its statistics, that plan reads every row of the agent and compares each with every
value: 22 ms per 128-key lookup on 5,000 punches, against 0.9 ms for a probe per value. Written as
``event_id IN (SELECT unnest($2))`` the value list is a relation of its own; the planner joins it to
the unique index whatever it knows of the values, and one text serves every length.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


def padded(values: list[T]) -> list[T]:
    """``values`` padded with its last value to the next power of two (an empty list stays empty)."""
    if not values:
        return values
    size = 1 << (len(values) - 1).bit_length()
    return values + [values[-1]] * (size - len(values))


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
