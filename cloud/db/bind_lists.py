"""Lookup lists (``column IN (…)``) written so each engine keeps few statement texts and index probes.

An ``IN`` list binds one parameter per value, so its length is part of the statement text the
driver sees. On SQLite (each execution planned anew) padding to the next power of two, repeating
the last value, which changes no result, leaves a handful of texts for every batch size.

On PostgreSQL padding is not the point: asyncpg prepares each text once per connection anyway.
There ``column IN (SELECT unnest(:array))`` binds the whole list as one array: one text for every
length, with no padding. Which plan the server runs for it is ``plan_cache``'s concern (a generic
plan kept from while a table was small scans it; ingest plans its reads with their values).

Even planned with its values, an ``IN`` is only as good as the table's statistics: a table that grew
since its last ``ANALYZE`` (a new cloud's first minute, a backlog, a server without autovacuum) looks
small, and the planner reads every row of the agent or organisation and filters them (measured: 8–10
ms per lookup at 35,000 punches, and growing with the table). ``probe_each`` writes a lookup whose
plan is an index probe per key whatever the statistics say.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, cast, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import TableValuedAlias

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


def probe_each(
    name: str,
    key: InstrumentedAttribute[Any],
    *columns: InstrumentedAttribute[Any],
    where: ColumnElement[bool],
) -> Select[Any]:
    """PostgreSQL: ``columns`` of the row (at most one) of ``key``'s table matching ``where`` and
    ``key = k``, for each key ``k`` in the array bound to ``name``: one index probe per key.

    The keys are ``unnest``-ed and each is looked up by a ``LATERAL`` subquery parameterised by it.
    Its ``LIMIT 1`` keeps the planner from flattening it into a join, which it could run as a scan
    of the table. Use it where a key has one row at most (a unique key) or only its presence counts.
    """
    keys = key_rows(name, key)
    probe = select(*columns).where(where, key == keys.c.value).limit(1).lateral(f"{name}_found")
    return select(*probe.c).select_from(keys).join(probe, true())


def key_rows(name: str, key: InstrumentedAttribute[Any]) -> TableValuedAlias:
    """PostgreSQL: ``unnest(CAST(:name AS type[])) AS name(value)``, one row per key bound to ``name``
    (typed as ``key``'s column), to drive a ``LATERAL`` probe per key."""
    array = ARRAY(key.type)
    keys = func.unnest(cast(bindparam(name, type_=array), array)).table_valued("value")
    return keys.render_derived(name=name)
