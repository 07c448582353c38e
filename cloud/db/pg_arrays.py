"""Many rows in one execution on PostgreSQL: the rows travel as one array per column (``unnest``).

Why: an ``executemany`` sends one Bind/Execute per row and SQLAlchemy builds each row's parameters
in Python; a multi-row ``VALUES`` (insertmanyvalues) renders a new statement text for every batch
size, which PostgreSQL must parse and plan again. ``INSERT … SELECT * FROM unnest($1::t1[], …)`` is
one statement text whatever the row count, prepared once per connection, and the driver encodes
each array in C. Values go to the driver as they are (no SQLAlchemy type processing): datetimes
must be timezone-aware, enums are sent as their values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects.postgresql.base import PGDialect

_DIALECT = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated


def unnest_insert(table: Table, columns: Sequence[str], *, returning: Sequence[str] = ()) -> TextClause:
    """``INSERT INTO table (columns) SELECT * FROM unnest(:column::type[], …) [RETURNING …]``."""
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=_DIALECT)}[])" for name in columns
    )
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    return text(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}){tail}")


def column_arrays(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """The bind parameters of ``unnest_insert``: one list per column, in row order."""
    return {name: [_plain(row[name]) for row in rows] for name in columns}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
