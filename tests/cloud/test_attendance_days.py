"""Lateness bands, corrections (补卡) and closing a day (absences), through ingest and the API."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cloud.db.models import Agent, LedgerEntry
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.test_api import assert_problem, auth, make_tenant

DAY = dt.date(2026, 11, 16)


async def points_by_member(app: FastAPI) -> dict[int, int]:
    async with app.state.sessions() as session:
        rows = (await session.execute(select(LedgerEntry.member_id, LedgerEntry.points))).all()
    totals: dict[int, int] = {}
    for member_id, points in rows:
        totals[member_id] = totals.get(member_id, 0) + points
    return totals


async def test_bands_corrections_and_absences(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    ids = {}
    for pin, name in [("1", "Alice"), ("2", "Bob"), ("3", "Carol")]:
        member = {"display_name": name, "pin": pin}
        ids[name] = (await client.post("/api/v1/members", json=member, headers=h)).json()["id"]
    rules = {}
    for name, points in [("very late", -3), ("absent", -5)]:
        body: dict[str, object] = {
            "category": "attendance",
            "name": name,
            "point_type": "A",
            "points": points,
        }
        rules[name] = (await client.post("/api/v1/rules", json=body, headers=h)).json()["id"]
    attendance = {
        "shift_start": "09:00:00",
        "on_time_rule_id": t.on_time_rule_id,
        "late_rule_id": t.late_rule_id,
        "late_bands": [{"after_minutes": 15, "rule_id": rules["very late"]}],
        "absence_rule_id": rules["absent"],
    }
    assert (await client.post("/api/v1/attendance-rules", json=attendance, headers=h)).status_code == 201
    async with app.state.sessions() as session:
        session.add(Agent(agent_id="site-1", org_id=t.org_id))
        await session.commit()
    batch = events.batch(
        events.punch("1", events.local(DAY, 9, 5)), events.punch("2", events.local(DAY, 9, 30))
    )
    await handle_message(app.state.sessions, sync.topic("site-1", sync.Channel.EVENTS), batch)
    assert await points_by_member(app) == {ids["Alice"]: -1, ids["Bob"]: -3}  # band: > 15 minutes late

    closing = await client.post("/api/v1/attendance/day-closings", json={"day": DAY.isoformat()}, headers=h)
    assert closing.json()["absences_recorded"] == 1
    again = await client.post("/api/v1/attendance/day-closings", json={"day": DAY.isoformat()}, headers=h)
    assert again.json()["absences_recorded"] == 0  # idempotent
    assert (await points_by_member(app))[ids["Carol"]] == -5

    for name in ("Alice", "Carol"):
        body = {"member_id": ids[name], "day": DAY.isoformat(), "reason": "badge forgotten"}
        corrected = await client.post("/api/v1/attendance/corrections", json=body, headers=h)
        assert corrected.status_code == 201, corrected.text
        assert len(corrected.json()["revoked_entry_ids"]) == 1
    assert await points_by_member(app) == {ids["Alice"]: 2, ids["Bob"]: -3, ids["Carol"]: 2}
    body = {"member_id": ids["Alice"], "day": DAY.isoformat(), "reason": "again"}
    assert_problem(
        await client.post("/api/v1/attendance/corrections", json=body, headers=h), 409, "already on time"
    )
    generated = await client.get("/api/v1/ledger-entries?source=attendance&limit=100", headers=h)
    assert len(generated.json()) == 5  # 3 generated + 2 corrections (compensations are source system)
