"""Balances for many ledger entries at once: one aggregated upsert statement for all period rows.

On PostgreSQL the rows travel as arrays (``unnest``: one execution); on SQLite the cached upsert is
run with ``executemany`` (one statement, the loop in C).

Rule: the same rows and sums as adding each entry in turn (``ledger.record_entry``): every period
an entry touches gets a row, even when the entries of a batch cancel out (a revocation and its
replacement); rows go in key order, so two workers upserting overlapping balances lock them in
the same order and cannot deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Balance
from cloud.domain.periods import period_keys

BalanceKey = tuple[int, int, str, str]  # member, point type, period kind, period key

_BALANCES = cast(Table, Balance.__table__)  # Core, not ORM: no per-row ORM work


def period_deltas(entries: Iterable[Mapping[str, Any]]) -> Counter[BalanceKey]:
    """The points each (member, point type, period) gains from approved ``entries`` (ledger rows)."""
    deltas: Counter[BalanceKey] = Counter()
    for entry in entries:
        for kind, key in period_keys(entry["effective_date"]).items():
            deltas[(entry["member_id"], entry["point_type_id"], kind.value, key)] += entry["points"]
    return deltas


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
    rows = [
        {
            "org_id": org_id,
            "member_id": member_id,
            "point_type_id": point_type_id,
            "period_kind": kind,
            "period_key": key,
            "points": points,
        }
        for (member_id, point_type_id, kind, key), points in ordered
    ]
    await session.execute(_SQLITE_UPSERT, rows)


def _sqlite_upsert() -> Any:
    """``INSERT … ON CONFLICT DO UPDATE points = points + excluded.points``, compiled once, cached."""
    statement = sqlite.insert(_BALANCES)
    return statement.on_conflict_do_update(
        index_elements=["org_id", "point_type_id", "period_kind", "period_key", "member_id"],
        set_={"points": _BALANCES.c.points + statement.excluded.points},
    )


_SQLITE_UPSERT = _sqlite_upsert()
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
