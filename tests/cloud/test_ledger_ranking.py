"""Ledger → balances in one transaction; rankings with standard competition ties (1, 2, 2, 4)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cloud.db.models import Balance, LedgerEntry
from cloud.db.session import SessionFactory
from cloud.domain import ledger, ranking
from cloud.domain.ranking import competition_ranks
from tests.cloud import factories

NOV = dt.date(2026, 11, 5)


async def balances(sessions: SessionFactory, member_id: int) -> dict[tuple[str, str], int]:
    async with sessions() as session:
        rows = (await session.execute(select(Balance).where(Balance.member_id == member_id))).scalars()
        return {(b.period_kind, b.period_key): b.points for b in rows}


async def test_an_entry_updates_every_period_balance(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session)
        alice = await factories.member(session, t.org_id, "Alice")
        await factories.award(session, t, alice.id, 5, NOV, "k1")
        await factories.award(session, t, alice.id, -2, NOV, "k2")
        await factories.award(session, t, alice.id, 4, dt.date(2026, 12, 1), "k3")
        await session.commit()
    assert await balances(sessions, alice.id) == {
        ("day", "2026-11-05"): 3,
        ("day", "2026-12-01"): 4,
        ("week", "2026-W45"): 3,
        ("week", "2026-W49"): 4,
        ("month", "2026-11"): 3,
        ("month", "2026-12"): 4,
        ("quarter", "2026-Q4"): 7,
        ("year", "2026"): 7,
        ("all", "all"): 7,
    }


async def test_balances_roll_back_with_the_entry(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session)
        alice_id = (await factories.member(session, t.org_id, "Alice")).id
        await session.commit()
        await factories.award(session, t, alice_id, 5, NOV, "k1")
        await session.rollback()
    assert await balances(sessions, alice_id) == {}
    async with sessions() as session:  # control: the same entry committed does move the balance
        await factories.award(session, t, alice_id, 5, NOV, "k1")
        await session.commit()
    assert set((await balances(sessions, alice_id)).values()) == {5}


async def test_revocation_is_a_compensating_entry(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session)
        alice = await factories.member(session, t.org_id, "Alice")
        entry = await factories.award(session, t, alice.id, 5, NOV, "k1")
        compensation = await ledger.revoke(session, entry, idempotency_key="revoke:k1", reason="mistake")
        await session.commit()
        assert compensation.points == -5
        assert compensation.revokes_id == entry.id
        entries = (await session.execute(select(LedgerEntry.points).order_by(LedgerEntry.id))).scalars().all()
    assert entries == [5, -5]  # append-only: the original stays
    assert (await balances(sessions, alice.id))[("month", "2026-11")] == 0


async def test_top_ranks_ties_1_2_2_4_with_stated_tie_break(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session)
        scores = {"Erin": 1, "Dave": 5, "Carol": 5, "Bob": 3, "Alice": 9}
        for name, points in scores.items():
            m = await factories.member(session, t.org_id, name)
            await factories.award(session, t, m.id, points, NOV, f"k-{name}")
        await session.commit()
        top = await ranking.top(session, t.org_id, t.point_type_id, "month", "2026-11", 10)
    assert [(r.rank, r.display_name, r.points) for r in top] == [
        (1, "Alice", 9),
        (2, "Carol", 5),  # tie broken by display name
        (2, "Dave", 5),
        (4, "Bob", 3),
        (5, "Erin", 1),
    ]


async def test_top_is_scoped_to_org_period_and_limit(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session, "One")
        other = await factories.tenant(session, "Two")
        for i in range(4):
            m = await factories.member(session, t.org_id, f"M{i}")
            await factories.award(session, t, m.id, i + 1, NOV, f"k{i}")
        stranger = await factories.member(session, other.org_id, "Stranger")
        await factories.award(session, other, stranger.id, 100, NOV, "s")
        await session.commit()
        top = await ranking.top(session, t.org_id, t.point_type_id, "month", "2026-11", 2)
        december = await ranking.top(session, t.org_id, t.point_type_id, "month", "2026-12", 10)
    assert [r.display_name for r in top] == ["M3", "M2"]
    assert december == []


def test_competition_ranks_table() -> None:
    cases = [
        ([], []),
        ([5], [1]),
        ([5, 5, 5], [1, 1, 1]),
        ([9, 5, 5, 3], [1, 2, 2, 4]),
        ([9, 9, 5, 5, 1], [1, 1, 3, 3, 5]),
        ([0, -1, -1], [1, 2, 2]),
    ]
    for points, expected in cases:
        rows = [(i, f"m{i}", p) for i, p in enumerate(points)]
        assert [r.rank for r in competition_ranks(rows)] == expected, points
