"""Balances for many ledger entries at once: one aggregated upsert statement for all period rows.

On PostgreSQL the rows travel as arrays (``unnest``: one execution); on SQLite the upsert goes to
the driver's ``executemany`` as plain tuples (one statement, the loop in C; the values are integers
and text, which need none of SQLAlchemy's per-row parameter processing).

Rule: the same rows and sums as adding each entry in turn (``ledger.record_entry``): every period
an entry touches gets a row, even when the entries of a batch cancel out (a revocation and its
replacement); rows go in key order, so two workers upserting overlapping balances lock them in
the same order and cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.domain.periods import period_keys

BalanceKey = tuple[int, int, str, str]  # member, point type, period kind, period key


def period_deltas(entries: Iterable[Mapping[str, Any]]) -> Counter[BalanceKey]:
    """The points each (member, point type, period) gains from approved ``entries`` (ledger rows)."""
    deltas: Counter[BalanceKey] = Counter()
    for entry in entries:
        member_id, point_type_id, points = entry["member_id"], entry["point_type_id"], entry["points"]
        for kind, key in _periods(entry["effective_date"]):
            deltas[(member_id, point_type_id, kind, key)] += points
    return deltas


@functools.lru_cache(maxsize=4096)
def _periods(day: dt.date) -> tuple[tuple[str, str], ...]:
    """(kind, key) of every period of ``day``: a batch's entries share a few days."""
    return tuple((kind.value, key) for kind, key in period_keys(day).items())


async def add_to_balances(session: AsyncSession, org_id: int, deltas: Counter[BalanceKey]) -> None:
    """Insert or add to every balance row in ``deltas``: one upsert statement for all of them."""
    ordered = sorted(deltas.items())
    if not ordered:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One execution with the rows as arrays: executemany would send one Bind/Execute per row.
        columns = list(zip(*((*key, points) for key, points in ordered), strict=True))
        names = ("members", "point_types", "kinds", "keys", "points")
        await session.execute(
            _PG_UNNEST_UPSERT, {"org_id": org_id} | dict(zip(names, map(list, columns), strict=True))
        )
        return
    rows = [(org_id, *key, points) for key, points in ordered]
    await (await session.connection()).exec_driver_sql(_SQLITE_UPSERT, rows)


# Positional, in BalanceKey order after the organisation: (org, member, point type, kind, key, points).
_SQLITE_UPSERT = """
    INSERT INTO balance (org_id, member_id, point_type_id, period_kind, period_key, points)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (org_id, point_type_id, period_kind, period_key, member_id)
    DO UPDATE SET points = balance.points + excluded.points
    """
_PG_UNNEST_UPSERT = text(
    """
    INSERT INTO balance (org_id, member_id, point_type_id, period_kind, period_key, points)
    SELECT :org_id, m, t, k, pk, p
    FROM unnest(CAST(:members AS INTEGER[]), CAST(:point_types AS INTEGER[]),
                CAST(:kinds AS VARCHAR[]), CAST(:keys AS VARCHAR[]), CAST(:points AS INTEGER[]))
         AS rows (m, t, k, pk, p)
    ON CONFLICT (org_id, point_type_id, period_kind, period_key, member_id)
    DO UPDATE SET points = balance.points + excluded.points
    """
)
