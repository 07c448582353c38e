"""Balances for many ledger entries at once: one aggregated upsert, executed for all period rows.

Rule: the same rows and sums as adding each entry in turn (``ledger.record_entry``): every period
an entry touches gets a row, even when the entries of a batch cancel out (a revocation and its
replacement); rows go in key order, so two workers upserting overlapping balances lock them in
the same order and cannot deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
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
    """Insert or add to every balance row in ``deltas``: one upsert statement, executed for many rows."""
    rows = [
        {
            "org_id": org_id,
            "member_id": member_id,
            "point_type_id": point_type_id,
            "period_kind": kind,
            "period_key": key,
            "points": points,
        }
        for (member_id, point_type_id, kind, key), points in sorted(deltas.items())
    ]
    if rows:
        await session.execute(_upsert(session.get_bind().dialect.name), rows)


def _upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE points = points + excluded.points``, compiled once, cached."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_BALANCES)
    return statement.on_conflict_do_update(
        index_elements=["org_id", "point_type_id", "period_kind", "period_key", "member_id"],
        set_={"points": _BALANCES.c.points + statement.excluded.points},
    )
