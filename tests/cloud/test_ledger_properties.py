"""Ledger properties (hypothesis) on a real database: balances always equal the sum of approved,
non-revoked entries; rankings (top and bottom, any page) agree with a naive recomputation; ties are
ranked consistently (1, 2, 2, 4)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cloud.db.models import Balance, EntrySource, EntryStatus, LedgerEntry, Role
from cloud.db.session import SessionFactory
from cloud.domain import ledger, ranking, workflow
from cloud.domain.periods import PeriodKind, period_key
from tests.cloud import factories

START = dt.date(2026, 11, 20)
ADMIN = workflow.Person(token_id=None, role=Role.ORG_ADMIN, member_id=None)
_orgs = itertools.count()

# One operation: (member, points, day offset, what happens after: keep | revoke | leave pending | reject)
operations = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.integers(-5, 5).filter(bool),
        st.integers(0, 20),
        st.sampled_from(["keep", "revoke", "pending", "reject"]),
    ),
    max_size=14,
)


def naive_ranks(points: dict[int, int]) -> dict[int, int]:
    return {m: 1 + sum(1 for q in points.values() if q > p) for m, p in points.items()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, page=st.integers(1, 3))
async def test_balances_and_rankings_match_a_naive_recomputation(
    sessions: SessionFactory, ops: list[tuple[int, int, int, str]], page: int
) -> None:
    async with sessions() as session:
        t = await factories.tenant(session, f"Org {next(_orgs)}")
        people = [await factories.member(session, t.org_id, f"M{i % 3}") for i in range(5)]  # name ties
        for n, (who, points, offset, fate) in enumerate(ops):
            sub = workflow.Submission(
                org_id=t.org_id,
                member_ids=(people[who].id,),
                point_type_id=t.point_type_id,
                points=points,
                rule=None,
                reason=None,
                source=EntrySource.MANUAL,
                effective_date=START + dt.timedelta(days=offset),
                idempotency_key=f"k{n}",
            )
            submitter = workflow.Person(token_id=None, role=Role.MANAGER, member_id=None)
            event = await workflow.submit(session, sub, ADMIN if fate in ("keep", "revoke") else submitter)
            entry = (await workflow.entries_of(session, event))[0]
            if fate == "revoke":
                await workflow.revoke(session, entry, ADMIN, "undo")
            elif fate == "reject":
                await workflow.reject(session, event, ADMIN, "no")
        await session.commit()
        entries = list(
            (await session.execute(select(LedgerEntry).where(LedgerEntry.org_id == t.org_id))).scalars()
        )
        revoked = {e.revokes_id for e in entries if e.revokes_id is not None}
        counted = [
            e
            for e in entries
            if e.status == EntryStatus.APPROVED and e.revokes_id is None and e.id not in revoked
        ]
        for kind in (PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.ALL):
            keys = {period_key(kind, START + dt.timedelta(days=d)) for d in range(21)}
            for key in keys:
                expected: dict[int, int] = {}
                for e in counted:
                    if period_key(kind, e.effective_date) == key:
                        expected[e.member_id] = expected.get(e.member_id, 0) + e.points
                stored = await session.execute(
                    select(Balance.member_id, Balance.points).where(
                        Balance.org_id == t.org_id,
                        Balance.period_kind == kind.value,
                        Balance.period_key == key,
                    )
                )
                balances = {m: p for m, p in stored.all()}
                # a member with only cancelled entries keeps a zero row; otherwise identical
                assert {m: p for m, p in balances.items() if p or m in expected} == expected
                assert all(p == 0 for m, p in balances.items() if m not in expected)
                await check_ranking(session, t.org_id, t.point_type_id, kind, key, balances, page)


async def check_ranking(session, org_id, point_type_id, kind, key, balances, page) -> None:  # type: ignore[no-untyped-def]
    scope = ranking.Scope(org_id=org_id, point_type_id=point_type_id, period_kind=kind.value, period_key=key)
    ranks = naive_ranks(balances)
    full = await ranking.ranked(session, scope, 500)
    assert {r.member_id: r.rank for r in full} == ranks
    assert [r.points for r in full] == sorted(balances.values(), reverse=True)
    names = [(-r.points, r.display_name, r.member_id) for r in full]
    assert names == sorted(names)  # the stated tie-break: points, then display name, then id
    paged = [
        r for start in range(0, len(full), page) for r in await ranking.ranked(session, scope, page, start)
    ]
    assert paged == full
    bottom = await ranking.ranked(session, scope, 500, order=ranking.Order.BOTTOM)
    assert bottom == full[::-1]


async def test_pending_entries_move_balances_only_when_approved(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session)
        alice = await factories.member(session, t.org_id, "Alice")
        manager = workflow.Person(token_id=None, role=Role.MANAGER, member_id=None)
        sub = workflow.Submission(
            org_id=t.org_id,
            member_ids=(alice.id,),
            point_type_id=t.point_type_id,
            points=4,
            rule=None,
            reason=None,
            source=EntrySource.MANUAL,
            effective_date=START,
            idempotency_key="p",
        )
        event = await workflow.submit(session, sub, manager)
        assert event.status == "pending"
        await session.commit()
        assert (await session.execute(select(Balance))).first() is None
        await workflow.approve(session, event, ADMIN, "fine")
        await session.commit()
        assert set((await session.execute(select(Balance.points))).scalars()) == {4}
        entry = (await workflow.entries_of(session, event))[0]
        with pytest.raises(ValueError, match="not pending"):
            await ledger.approve(session, entry)
