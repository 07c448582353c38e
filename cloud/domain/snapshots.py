"""Period snapshots: a closed period's ranking frozen as published, so it can be reproduced later.

Rules: only a period that has ended (in the organisation's time zone) can be frozen; all-time never
ends. One snapshot per (point type, period, department scope); the whole ranking is stored (up to
``MAX_ROWS``), with ranks as computed at freezing time. Later backdated entries move balances but
never a snapshot.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import RankingSnapshot
from cloud.domain import ranking
from cloud.domain.periods import PeriodKind, period_key, today

MAX_ROWS = 10_000


class SnapshotError(Exception):
    """The period cannot be frozen (not ended yet, or frozen already)."""


def has_ended(kind: PeriodKind, key: str, time_zone: str, on: dt.date | None = None) -> bool:
    """Whether the period ``key`` lies wholly before the current one (keys of a kind sort by time);
    ``on``: the local date to judge by (default today)."""
    return kind is not PeriodKind.ALL and key < period_key(kind, on or today(time_zone))


async def freeze(
    session: AsyncSession,
    scope: ranking.Scope,
    time_zone: str,
    department_id: int | None,
    token_id: int | None,
    on: dt.date | None = None,
) -> RankingSnapshot:
    """Store the scope's full ranking now (``on``: the local date, default today); the caller commits."""
    kind = PeriodKind(scope.period_kind)
    if not has_ended(kind, scope.period_key, time_zone, on):
        raise SnapshotError(
            f"the {kind.value} {scope.period_key} has not ended yet; only closed periods freeze"
        )
    existing = select(RankingSnapshot.id).where(
        RankingSnapshot.org_id == scope.org_id,
        RankingSnapshot.point_type_id == scope.point_type_id,
        RankingSnapshot.period_kind == scope.period_kind,
        RankingSnapshot.period_key == scope.period_key,
        RankingSnapshot.department_id.is_(None)
        if department_id is None
        else RankingSnapshot.department_id == department_id,
    )
    if (await session.execute(existing)).first():
        raise SnapshotError(f"the {kind.value} {scope.period_key} is already frozen for this scope")
    rows = await ranking.ranked(session, scope, MAX_ROWS)
    snapshot = RankingSnapshot(
        org_id=scope.org_id,
        point_type_id=scope.point_type_id,
        period_kind=scope.period_kind,
        period_key=scope.period_key,
        department_id=department_id,
        rows=[
            {"rank": r.rank, "member_id": r.member_id, "display_name": r.display_name, "points": r.points}
            for r in rows
        ],
        frozen_by_token_id=token_id,
    )
    session.add(snapshot)
    await session.flush()
    return snapshot
