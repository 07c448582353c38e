"""The one-statement ranking page: equal to a brute-force reference, and a range scan of the index."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import Balance, Department, Member, MemberStatus
from cloud.db.session import SessionFactory
from cloud.domain import ranking
from tests.cloud import factories

Row = tuple[int, int, str, int]  # rank, member id, display name, points


def reference(
    members: list[tuple[int, str, int]], limit: int, offset: int, order: ranking.Order
) -> list[Row]:
    """The rule written plainly: rank = 1 + members with more points; ties by name, then id."""
    ranked = sorted(members, key=lambda m: (-m[2], m[1], m[0]))
    rows = [(1 + sum(1 for o in members if o[2] > m[2]), m[0], m[1], m[2]) for m in ranked]
    if order is ranking.Order.BOTTOM:
        rows.reverse()
    return rows[offset : offset + limit]


async def _seed(session: AsyncSession, seed: int) -> tuple[ranking.Scope, int]:
    """Random members (names and points collide on purpose, some erased, two departments)."""
    rng = random.Random(seed)
    t = await factories.tenant(session)
    departments = [Department(org_id=t.org_id, name=n) for n in ("north", "south")]
    session.add_all(departments)
    await session.flush()
    people = [
        Member(
            org_id=t.org_id,
            display_name=rng.choice("ABCDE"),
            department_id=rng.choice(departments).id,
            status=MemberStatus.ERASED if rng.random() < 0.1 else MemberStatus.ACTIVE,
        )
        for _ in range(rng.randint(0, 60))
    ]
    session.add_all(people)
    await session.flush()
    session.add_all(
        Balance(
            org_id=t.org_id,
            member_id=m.id,
            point_type_id=t.point_type_id,
            period_kind="month",
            period_key="2026-11",
            points=rng.randint(-3, 6),
        )
        for m in people
    )
    await session.flush()
    scope = ranking.Scope(
        org_id=t.org_id, point_type_id=t.point_type_id, period_kind="month", period_key="2026-11"
    )
    return scope, departments[0].id


@pytest.mark.parametrize("seed", range(6))
async def test_every_page_equals_the_reference(sessions: SessionFactory, seed: int) -> None:
    async with sessions() as session:
        scope, north = await _seed(session, seed)
        listed = await session.execute(
            text(
                "SELECT m.id, m.display_name, b.points, m.department_id FROM balance b JOIN member m"
                " ON m.id = b.member_id WHERE b.org_id = :org AND m.status != 'erased'"
            ),
            {"org": scope.org_id},
        )
        everyone = [tuple(r) for r in listed.all()]
        for department_ids in (None, [north]):
            in_scope = [(i, n, p) for i, n, p, d in everyone if department_ids is None or d in department_ids]
            scoped = ranking.Scope(
                org_id=scope.org_id,
                point_type_id=scope.point_type_id,
                period_kind="month",
                period_key="2026-11",
                department_ids=department_ids,
            )
            for order in ranking.Order:
                for limit, offset in ((1, 0), (3, 0), (5, 2), (10, 7), (100, 0), (4, 200)):
                    got = await ranking.ranked(session, scoped, limit, offset, order)
                    expected = reference(in_scope, limit, offset, order)
                    assert [(r.rank, r.member_id, r.display_name, r.points) for r in got] == expected


async def _many_balances(session: AsyncSession, count: int) -> ranking.Scope:
    """``count`` members with monthly balances, inserted as sets; statistics refreshed."""
    t = await factories.tenant(session)
    await session.execute(
        insert(Member),
        [
            {"org_id": t.org_id, "display_name": f"M{i}", "status": "active", "minor": False}
            for i in range(count)
        ],
    )
    await session.execute(
        text(
            "INSERT INTO balance (org_id, member_id, point_type_id, period_kind, period_key, points)"
            " SELECT org_id, id, :pt, 'month', '2026-11', (id * 7919) % 500 FROM member WHERE org_id = :org"
        ),
        {"pt": t.point_type_id, "org": t.org_id},
    )
    await session.commit()
    await session.execute(text("ANALYZE"))
    return ranking.Scope(
        org_id=t.org_id, point_type_id=t.point_type_id, period_kind="month", period_key="2026-11"
    )


async def test_top_page_is_a_range_scan_of_the_ranking_index(sessions: SessionFactory) -> None:
    async with sessions() as session:
        scope = await _many_balances(session, 3000)
        query = ranking.page_query(scope, 10, 0, ranking.Order.TOP)
        dialect = session.get_bind().dialect
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        plan = [str(row[-1]) for row in (await session.execute(text(explain + sql))).all()]
        rows = await ranking.ranked(session, scope, 10)
    text_plan = "\n".join(plan)
    assert [r.points for r in rows] == sorted((r.points for r in rows), reverse=True)  # control: data
    if dialect.name == "sqlite":
        # The prefix: a search of the index on the four equalities and a points range, never a scan.
        assert (
            "USING INDEX ix_balance_ranking (org_id=? AND point_type_id=? AND period_kind=? AND" in text_plan
        )
        assert "AND points>?)" in text_plan, text_plan
        assert not [line for line in plan if line.startswith("SCAN b")], text_plan
    else:
        assert "ix_balance_ranking" in text_plan, text_plan
        assert "(points >= " in text_plan, text_plan  # an index condition on the range, not a filter
        assert "Seq Scan on balance" not in text_plan, text_plan
