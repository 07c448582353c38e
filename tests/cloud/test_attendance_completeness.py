"""Early leave (closing a day) and full attendance (closing a month), through ingest and the API."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI

from cloud.db.models import Agent, AttendanceRule
from cloud.domain.attendance_completeness import rule_for_departure
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.test_api import assert_problem, auth, make_tenant
from tests.cloud.test_attendance_days import points_by_member

MONDAY = dt.date(2025, 10, 6)
TUESDAY = dt.date(2025, 10, 7)
OUT = sync.PunchState.CHECK_OUT


def test_departure_bands_pick_by_minutes_early() -> None:
    rule = AttendanceRule(
        shift_end=dt.time(18),
        early_leave_rule_id=5,
        early_leave_bands=[{"before_minutes": 60, "rule_id": 6}, {"before_minutes": 120, "rule_id": 7}],
    )
    assert rule_for_departure(rule, events.local(MONDAY, 18)) is None  # at the shift end: not early
    assert rule_for_departure(rule, events.local(MONDAY, 17, 30)) == 5
    assert rule_for_departure(rule, events.local(MONDAY, 16, 30)) == 6
    assert rule_for_departure(rule, events.local(MONDAY, 15, 59)) == 7
    rule.shift_end = None
    assert rule_for_departure(rule, events.local(MONDAY, 10)) is None  # no shift end: never early


async def _setup(app: FastAPI, client: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, int], int]:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    ids = {}
    for pin, name in [("1", "Alice"), ("2", "Bob"), ("3", "Carol"), ("4", "Dan")]:
        member = {"display_name": name, "pin": pin}
        ids[name] = (await client.post("/api/v1/members", json=member, headers=h)).json()["id"]
    rules = {}
    for name, points in [("absent", -5), ("early", -2), ("very early", -4), ("full", 10)]:
        body = {"category": "attendance", "name": name, "point_type": "A", "points": points}
        rules[name] = (await client.post("/api/v1/rules", json=body, headers=h)).json()["id"]
    attendance = {
        "shift_start": "09:00:00",
        "on_time_rule_id": t.on_time_rule_id,
        "late_rule_id": t.late_rule_id,
        "absence_rule_id": rules["absent"],
        "shift_end": "18:00:00",
        "early_leave_rule_id": rules["early"],
        "early_leave_bands": [{"before_minutes": 60, "rule_id": rules["very early"]}],
        "full_attendance_rule_id": rules["full"],
    }
    created = await client.post("/api/v1/attendance-rules", json=attendance, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["early_leave_bands"] == attendance["early_leave_bands"]
    async with app.state.sessions() as session:
        session.add(Agent(agent_id="site-1", org_id=t.org_id))
        await session.commit()
    return h, ids, t.org_id


async def _punch(app: FastAPI, *punches: sync.Event) -> None:
    await handle_message(
        app.state.sessions, sync.topic("site-1", sync.Channel.EVENTS), events.batch(*punches)
    )


async def _close(client: httpx.AsyncClient, h: dict[str, str], day: dt.date) -> dict[str, int]:
    closing = await client.post("/api/v1/attendance/day-closings", json={"day": day.isoformat()}, headers=h)
    assert closing.status_code == 200, closing.text
    body: dict[str, int] = closing.json()
    return body


async def test_early_leave_and_full_attendance(app: FastAPI, client: httpx.AsyncClient) -> None:
    h, ids, _org = await _setup(app, client)
    on_time = [events.punch(pin, events.local(MONDAY, 8, 50)) for pin in "1234"]
    await _punch(
        app,
        *on_time,
        events.punch("1", events.local(MONDAY, 18, 5), OUT),
        events.punch("2", events.local(MONDAY, 18, 10), OUT),  # the last check-out decides …
        events.punch("3", events.local(MONDAY, 17, 30), OUT),
        events.punch("4", events.local(MONDAY, 16, 0), OUT),
    )
    await _punch(app, events.punch("2", events.local(MONDAY, 16, 30), OUT))  # … even when it arrives first
    closed = await _close(client, h, MONDAY)
    assert (closed["absences_recorded"], closed["early_leaves_recorded"]) == (0, 2)
    assert (await _close(client, h, MONDAY))["early_leaves_recorded"] == 0  # idempotent
    assert await points_by_member(app) == {
        ids["Alice"]: 2,
        ids["Bob"]: 2,
        ids["Carol"]: 2 - 2,
        ids["Dan"]: 2 - 4,  # two hours early: the band
    }

    await _punch(
        app,
        events.punch("1", events.local(TUESDAY, 8, 50)),
        events.punch("2", events.local(TUESDAY, 9, 10)),  # late
    )
    assert (await _close(client, h, TUESDAY))["absences_recorded"] == 2  # Carol and Dan

    month = {"year": 2025, "month": 10}
    closing = await client.post("/api/v1/attendance/month-closings", json=month, headers=h)
    assert closing.status_code == 200, closing.text
    assert closing.json()["full_attendance_awarded"] == 1  # Alice only
    again = await client.post("/api/v1/attendance/month-closings", json=month, headers=h)
    assert again.json()["full_attendance_awarded"] == 0  # closing twice awards once
    assert (await points_by_member(app))[ids["Alice"]] == 2 + 2 + 10

    # Generated deductions are reversible: once Bob's lateness is corrected, he earns full attendance.
    body = {"member_id": ids["Bob"], "day": TUESDAY.isoformat(), "reason": "bus strike"}
    assert (await client.post("/api/v1/attendance/corrections", json=body, headers=h)).status_code == 201
    after = await client.post("/api/v1/attendance/month-closings", json=month, headers=h)
    assert after.json()["full_attendance_awarded"] == 1
    assert (await points_by_member(app))[ids["Bob"]] == 2 + (-1 + 1 + 2) + 10
    audited = await client.get("/api/v1/audit?action=attendance.close_month", headers=h)
    assert [e["fields"]["detail"]["awarded"] for e in audited.json()] == [1, 0, 1]


async def test_an_open_month_cannot_be_closed(app: FastAPI, client: httpx.AsyncClient) -> None:
    h, _ids, _org = await _setup(app, client)
    future = {"year": 2099, "month": 12}
    response = await client.post("/api/v1/attendance/month-closings", json=future, headers=h)
    assert_problem(response, 409, "has not ended")
    past = {"year": 2025, "month": 9}  # control: an ended month closes (nobody attended: nothing awarded)
    closed = await client.post("/api/v1/attendance/month-closings", json=past, headers=h)
    assert closed.json() == {"year": 2025, "month": 9, "full_attendance_awarded": 0}
