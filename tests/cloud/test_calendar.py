"""Attendance calendars: holidays, make-up work days, leave, cross-midnight and flexible shifts,
through the API and ingest, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cloud.db.models import Agent, LedgerEntry
from cloud.domain.calendar import ShiftTimes
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.test_api import Tenant, assert_problem, auth, make_tenant

NATIONAL_DAY = dt.date(2026, 10, 1)  # a Thursday, imported as a public holiday
NORMAL_FRIDAY = dt.date(2026, 10, 9)
MAKE_UP_SATURDAY = dt.date(2026, 10, 10)  # imported as a make-up work day (调休)
SUNDAY = dt.date(2026, 10, 11)
MONDAY = dt.date(2026, 10, 12)
CALENDAR = {
    "work_weekdays": [1, 2, 3, 4, 5],
    "days": [
        {"date": NATIONAL_DAY.isoformat(), "kind": "holiday", "name": "National Day"},
        {"date": MAKE_UP_SATURDAY.isoformat(), "kind": "workday", "name": "make-up day"},
    ],
}


async def _setup(app: FastAPI, client: httpx.AsyncClient) -> tuple[Tenant, dict[str, int], dict[str, int]]:
    """Members Alice (1), Bob (2), Carol (3), Dan (4); rules; a 09:00–18:00 rule; agent site-1."""
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    ids = {}
    for pin, name in [("1", "Alice"), ("2", "Bob"), ("3", "Carol"), ("4", "Dan")]:
        created = await client.post("/api/v1/members", json={"display_name": name, "pin": pin}, headers=h)
        ids[name] = created.json()["id"]
    rules = {}
    for name, points in [("very late", -3), ("absent", -5), ("left early", -2)]:
        body = {"category": "attendance", "name": name, "point_type": "A", "points": points}
        rules[name] = (await client.post("/api/v1/rules", json=body, headers=h)).json()["id"]
    attendance = {
        "shift_start": "09:00:00",
        "shift_end": "18:00:00",
        "on_time_rule_id": t.on_time_rule_id,
        "late_rule_id": t.late_rule_id,
        "late_bands": [{"after_minutes": 15, "rule_id": rules["very late"]}],
        "absence_rule_id": rules["absent"],
        "early_leave_rule_id": rules["left early"],
    }
    assert (await client.post("/api/v1/attendance-rules", json=attendance, headers=h)).status_code == 201
    async with app.state.sessions() as session:
        session.add(Agent(agent_id="site-1", org_id=t.org_id))
        await session.commit()
    return t, ids, rules


async def _ingest(app: FastAPI, *punches: sync.Event) -> None:
    await handle_message(
        app.state.sessions, sync.topic("site-1", sync.Channel.EVENTS), events.batch(*punches)
    )


async def _close(client: httpx.AsyncClient, t: Tenant, day: dt.date) -> dict[str, object]:
    closed = await client.post(
        "/api/v1/attendance/day-closings", json={"day": day.isoformat()}, headers=auth(t.token)
    )
    assert closed.status_code == 200, closed.text
    body: dict[str, object] = closed.json()
    return body


async def _entries(app: FastAPI, member_id: int) -> list[tuple[dt.date, int | None, int]]:
    async with app.state.sessions() as session:
        query = select(LedgerEntry.effective_date, LedgerEntry.rule_id, LedgerEntry.points).where(
            LedgerEntry.member_id == member_id
        )
        return sorted(
            [tuple(row) for row in (await session.execute(query.order_by(LedgerEntry.id))).all()], key=str
        )


async def test_holidays_make_up_days_and_leave(app: FastAPI, client: httpx.AsyncClient) -> None:
    t, ids, rules = await _setup(app, client)
    h = auth(t.token)
    # Control: an ordinary work day closes with absences.
    control = await _close(client, t, NORMAL_FRIDAY)
    assert (control["absences_recorded"], control["work_day"]) == (4, True)

    imported = await client.post("/api/v1/attendance/calendar/import", json=CALENDAR, headers=h)
    assert imported.json() == {"days_written": 2, "work_weekdays": [1, 2, 3, 4, 5]}, imported.text
    year = (await client.get("/api/v1/attendance/calendar?year=2026", headers=h)).json()
    assert [(d["day"], d["kind"]) for d in year["days"]] == [
        ("2026-10-01", "holiday"),
        ("2026-10-10", "workday"),
    ]

    # A public holiday closes with no absences, and a check-in on it earns nothing (no lateness).
    await _ingest(app, events.punch("1", events.local(NATIONAL_DAY, 9, 40)))
    holiday = await _close(client, t, NATIONAL_DAY)
    assert (holiday["absences_recorded"], holiday["early_leaves_recorded"], holiday["work_day"]) == (
        0,
        0,
        False,
    )
    assert [e for e in await _entries(app, ids["Alice"]) if e[0] == NATIONAL_DAY] == []
    # A Sunday is not in the work week: no absences either.
    assert (await _close(client, t, SUNDAY))["absences_recorded"] == 0

    # The make-up Saturday is a work day: Alice's check-in scores, the other three are absent.
    await _ingest(app, events.punch("1", events.local(MAKE_UP_SATURDAY, 8, 55)))
    assert (MAKE_UP_SATURDAY, t.on_time_rule_id, 2) in await _entries(app, ids["Alice"])
    saturday = await _close(client, t, MAKE_UP_SATURDAY)
    assert (saturday["absences_recorded"], saturday["work_day"]) == (3, True)

    # Leave excuses absence: Bob is on leave on Monday; Carol and Dan are not (the control).
    leave = {"member_id": ids["Bob"], "first_day": "2026-10-12", "last_day": "2026-10-13", "reason": "sick"}
    assert (await client.post("/api/v1/attendance/leaves", json=leave, headers=h)).status_code == 201
    await _ingest(app, events.punch("1", events.local(MONDAY, 9)))
    assert (await _close(client, t, MONDAY))["absences_recorded"] == 2
    absences_on_monday = {
        name
        for name in ("Bob", "Carol", "Dan")
        if (MONDAY, rules["absent"], -5) in await _entries(app, ids[name])
    }
    assert absences_on_monday == {"Carol", "Dan"}
    listed = await client.get(f"/api/v1/attendance/leaves?member_id={ids['Bob']}", headers=h)
    assert [r["first_day"] for r in listed.json()] == ["2026-10-12"]
    backwards = leave | {"first_day": "2026-10-14"}
    assert_problem(await client.post("/api/v1/attendance/leaves", json=backwards, headers=h), 422, "last_day")


async def test_cross_midnight_and_flexible_shifts(app: FastAPI, client: httpx.AsyncClient) -> None:
    t, ids, rules = await _setup(app, client)
    h = auth(t.token)
    night = {"name": "night", "start": "22:00:00", "end": "06:00:00", "grace_minutes": 5}
    night_id = (await client.post("/api/v1/attendance/shifts", json=night, headers=h)).json()["id"]
    flexible = {"name": "flexible", "start": "09:00:00", "end": "18:00:00", "flexible_minutes": 60}
    flexible_id = (await client.post("/api/v1/attendance/shifts", json=flexible, headers=h)).json()["id"]
    for member, shift_id in (("Bob", night_id), ("Dan", night_id), ("Carol", flexible_id)):
        body = {"shift_id": shift_id, "member_id": ids[member]}
        assigned = await client.put("/api/v1/attendance/shift-assignments", json=body, headers=h)
        assert assigned.status_code == 200, assigned.text
    both = {"shift_id": night_id, "member_id": ids["Alice"], "department_id": 1}
    assert_problem(
        await client.put("/api/v1/attendance/shift-assignments", json=both, headers=h), 422, "exactly one"
    )

    day, next_day = MONDAY, MONDAY + dt.timedelta(days=1)
    await _ingest(
        app,
        events.punch("1", events.local(day, 9, 5)),  # Alice, day shift: late
        events.punch("2", events.local(day, 22, 4)),  # Bob, night shift: within the 5 minutes' grace
        events.punch("4", events.local(next_day, 0, 30)),  # Dan: after midnight, 150 minutes late for Monday
        events.punch("3", events.local(day, 9, 50)),  # Carol, flexible: on time up to 10:00
        events.punch("2", events.local(next_day, 5), sync.PunchState.CHECK_OUT),  # Bob leaves an hour early
        events.punch("4", events.local(next_day, 6, 10), sync.PunchState.CHECK_OUT),  # Dan stays to the end
        events.punch("3", events.local(day, 18, 20), sync.PunchState.CHECK_OUT),  # Carol: end moved to 18:50
    )
    assert await _entries(app, ids["Alice"]) == [(day, t.late_rule_id, -1)]
    assert await _entries(app, ids["Bob"]) == [(day, t.on_time_rule_id, 2)]
    assert await _entries(app, ids["Dan"]) == [(day, rules["very late"], -3)]  # Monday's shift, not Tuesday's
    assert await _entries(app, ids["Carol"]) == [(day, t.on_time_rule_id, 2)]

    closed = await _close(client, t, day)
    assert (closed["absences_recorded"], closed["early_leaves_recorded"]) == (0, 2)  # everyone came
    assert (day, rules["left early"], -2) in await _entries(app, ids["Bob"])
    assert (day, rules["left early"], -2) in await _entries(app, ids["Carol"])  # 30 minutes before 18:50
    assert len(await _entries(app, ids["Dan"])) == 1  # left after 06:00: not early
    # Tuesday: the night workers' Monday-shift punches after midnight do not count for Tuesday.
    tuesday = await _close(client, t, next_day)
    assert tuesday["absences_recorded"] == 4


def test_shift_days_and_windows() -> None:
    night = ShiftTimes(dt.time(22), dt.time(6))
    assert night.crosses_midnight
    assert night.day_of(events.local(MONDAY, 13, 59)) == MONDAY - dt.timedelta(days=1)  # boundary 14:00
    assert night.day_of(events.local(MONDAY, 14)) == MONDAY
    assert night.ends_at(MONDAY, events.SHANGHAI) == events.local(MONDAY + dt.timedelta(days=1), 6)
    first, after = night.window(MONDAY, events.SHANGHAI)
    assert (first, after) == (events.local(MONDAY, 14), events.local(MONDAY + dt.timedelta(days=1), 14))
    day = ShiftTimes(dt.time(9), dt.time(18))
    assert not day.crosses_midnight
    assert day.day_of(events.local(MONDAY, 0, 1)) == MONDAY


async def test_calendar_import_reports_each_bad_row_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token) | {"Content-Type": "text/csv"}
    rows = ["date,kind,name", "2026-10-01,holiday,National Day", "2026-13-01,holiday,x"]
    bad = "\n".join([*rows, "2026-10-02,vacation,y", "2026-10-01,workday,z", ""])
    refused = await client.post("/api/v1/attendance/calendar/import", content=bad.encode(), headers=h)
    assert_problem(refused, 422, "row.2.date")
    errors = [(e["loc"][1], e["loc"][2]) for e in refused.json()["errors"]]
    assert errors == [(2, "date"), (3, "kind"), (4, "date")]
    year = await client.get("/api/v1/attendance/calendar?year=2026", headers=auth(t.token))
    assert year.json() == {"work_weekdays": [1, 2, 3, 4, 5, 6, 7], "days": []}  # nothing stored
    good = "date,kind,name\n2026-10-01,holiday,National Day\n2026-10-10,workday,\n"
    stored = await client.post("/api/v1/attendance/calendar/import", content=good.encode(), headers=h)
    assert stored.json() == {"days_written": 2, "work_weekdays": None}
    year = await client.get("/api/v1/attendance/calendar?year=2026", headers=auth(t.token))
    assert [d["kind"] for d in year.json()["days"]] == ["holiday", "workday"]
    json_bad = {"work_weekdays": [1, 9], "days": [{"date": "2026-10-03", "kind": "holiday", "name": 5}]}
    refused = await client.post("/api/v1/attendance/calendar/import", json=json_bad, headers=auth(t.token))
    assert [(e["loc"][1], e["loc"][2]) for e in refused.json()["errors"]] == [
        (0, "work_weekdays"),
        (1, "name"),
    ]
    plain = auth(t.token) | {"Content-Type": "text/plain"}
    assert_problem(
        await client.post("/api/v1/attendance/calendar/import", content=b"x", headers=plain), 415, "text/csv"
    )


async def test_a_members_shift_beats_the_departments(app: FastAPI, client: httpx.AsyncClient) -> None:
    t, _, _ = await _setup(app, client)
    h = auth(t.token)
    crew = (await client.post("/api/v1/departments", json={"name": "Night crew"}, headers=h)).json()["id"]
    ids = {}
    for pin, name in [("5", "Eve"), ("6", "Finn")]:
        body = {"display_name": name, "pin": pin, "department_id": crew}
        ids[name] = (await client.post("/api/v1/members", json=body, headers=h)).json()["id"]
    shifts = {}
    for shift in (
        {"name": "night", "start": "22:00:00", "end": "06:00:00"},
        {"name": "early", "start": "07:00:00", "end": "15:00:00"},
    ):
        shifts[shift["name"]] = (
            await client.post("/api/v1/attendance/shifts", json=shift, headers=h)
        ).json()["id"]
    for body in (
        {"shift_id": shifts["night"], "department_id": crew},
        {"shift_id": shifts["early"], "member_id": ids["Finn"]},
    ):
        assert (
            await client.put("/api/v1/attendance/shift-assignments", json=body, headers=h)
        ).status_code == 200
    await _ingest(
        app,
        events.punch("5", events.local(MONDAY, 22)),  # Eve: the department's night shift, on time
        events.punch(
            "6", events.local(MONDAY, 7, 10)
        ),  # Finn: his own early shift, late (the rule's 09:00 would not be)
    )
    assert await _entries(app, ids["Eve"]) == [(MONDAY, t.on_time_rule_id, 2)]
    assert await _entries(app, ids["Finn"]) == [(MONDAY, t.late_rule_id, -1)]
    listed = (await client.get("/api/v1/attendance/shift-assignments", headers=h)).json()
    assert {(a["member_id"], a["department_id"]) for a in listed} == {(None, crew), (ids["Finn"], None)}
