"""The calendar's queries on the ingest path are index probes (the members' shifts, the holidays),
asserted on each engine's own plan over a few thousand analysed rows, as for the other hot queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud.db.bind_lists import bound
from cloud.db.models import CalendarDay, DayKind, Department, Member, Shift, ShiftAssignment
from cloud.db.session import SessionFactory
from cloud.domain.calendar import calendar_days_query, member_shifts_statement
from tests.cloud.test_ingest_query_plans import ROWS, _full_scans, _plan, _probes, populated

__all__ = ["populated"]  # the fixture, used here


async def _with_calendar(sessions: SessionFactory, engine: AsyncEngine, org_id: int) -> list[int]:
    """ROWS / 10 shifts and departments; half the members with a shift of their own, every member in
    a department with one; ROWS holidays; statistics gathered again. Returns two member ids."""
    async with sessions() as session:
        shifts = [
            Shift(org_id=org_id, name=f"S{n}", start=dt.time(22), end=dt.time(6)) for n in range(ROWS // 10)
        ]
        session.add_all(shifts)
        departments = [Department(org_id=org_id, name=f"D{n}") for n in range(ROWS // 10)]
        session.add_all(departments)
        await session.flush()
        members = (await session.execute(select(Member).where(Member.org_id == org_id))).scalars().all()
        for n, member in enumerate(members):
            member.department_id = departments[n % len(departments)].id
        own = [
            ShiftAssignment(org_id=org_id, shift_id=shifts[n % len(shifts)].id, member_id=m.id)
            for n, m in enumerate(members[::2])
        ]
        theirs = [
            ShiftAssignment(org_id=org_id, shift_id=shifts[n].id, department_id=d.id)
            for n, d in enumerate(departments)
        ]
        first = dt.date(2000, 1, 1)
        days = [
            CalendarDay(org_id=org_id, day=first + dt.timedelta(days=n), kind=DayKind.HOLIDAY.value)
            for n in range(ROWS)
        ]
        session.add_all([*own, *theirs, *days])
        await session.commit()
        picked = [members[1].id, members[2].id]
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    return picked


async def test_calendar_queries_probe_indexes(
    engine: AsyncEngine, sessions: SessionFactory, populated: tuple[int, int]
) -> None:
    org_id = populated[0]
    picked = await _with_calendar(sessions, engine, org_id)
    dialect = engine.dialect.name
    some = member_shifts_statement(dialect, some=True)
    query = some.params(org_id=org_id, member_ids=bound(picked, dialect))
    shifts = await _plan(engine, query)
    assert _full_scans(engine, shifts) == [], shifts
    probes = _probes(engine, shifts)
    assert "member" in probes, shifts
    assert {"shift_assignment_1", "shift_assignment_2", "shift_1", "shift_2"} <= set(probes), shifts
    days = await _plan(engine, calendar_days_query(org_id, dt.date(2005, 1, 1), dt.date(2005, 1, 3)))
    assert _full_scans(engine, days) == [], days
    assert "day" in _probes(engine, days).get("calendar_day", ""), days


async def test_the_calendar_plan_check_sees_a_full_scan(
    engine: AsyncEngine, sessions: SessionFactory, populated: tuple[int, int]
) -> None:
    """Control: holidays found by name, which no index serves, scan."""
    await _with_calendar(sessions, engine, populated[0])
    by_name: Any = select(CalendarDay.id).where(CalendarDay.name == "x")
    assert _full_scans(engine, await _plan(engine, by_name)) != []
