"""DSR-1: the export covers the data map. Every column of every model is classified (personal, with
its place in the export, or not personal, with a reason); a fully populated member's export has every
personal column's place; and the export's shape matches the golden file (regenerate it with
``MPM_UPDATE_GOLDEN=1`` after a deliberate change, and review the diff)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from cloud.db.base import Base
from cloud.db.models import (
    Agent,
    AgentCommand,
    AgentEvent,
    AttendancePunch,
    LedgerEntry,
    Role,
    RosterCheckRun,
)
from cloud.domain.orgs import issue_token
from cloud.domain.periods import PeriodKind, local_date, period_key
from cloud.privacy.data_map import PERSONAL, classified
from tests.cloud.test_api import auth, make_tenant

GOLDEN = Path(__file__).with_name("golden") / "subject_export_shape.json"


def unclassified(tables: list[Table]) -> dict[str, set[str]]:
    """Columns the data map does not name, per table (empty: every column is classified)."""
    gaps = {t.name: {c.name for c in t.c} - classified(t.name) for t in tables}
    return {name: columns for name, columns in gaps.items() if columns}


def test_every_column_of_every_model_is_classified() -> None:
    tables = list(Base.metadata.sorted_tables)
    assert unclassified(tables) == {}
    known = {t.name: {c.name for c in t.c} for t in tables}
    stale = {(t, c) for t, columns in PERSONAL.items() for c in columns if c not in known.get(t, set())}
    assert stale == set(), "the data map names columns that no longer exist"
    # Control: a model gaining a personal column the map does not know is caught.
    member = Base.metadata.tables["member"]
    grown = Table(
        "member", MetaData(), *(Column(c.name, c.type) for c in member.c), Column("nickname", String)
    )
    assert unclassified([grown]) == {"member": {"nickname"}}
    assert unclassified([Table("wearable", MetaData(), Column("id", Integer))]) == {"wearable": {"id"}}


async def populated_member(app: FastAPI, client: httpx.AsyncClient) -> tuple[str, int]:
    """An org admin token and a member with a row in every personal table of the data map."""
    t = await make_tenant(app, "Acme")
    h = auth(t.token)

    async def call(method: str, path: str, body: object = None, **headers: str) -> Any:
        response = await client.request(method, f"/api/v1{path}", json=body, headers=h | headers)
        assert response.is_success, (path, response.text)
        return response.json() if response.content else None

    await call("PATCH", "/org", {"sensitive_fields": {"id_number": "payroll", "birth_date": "minors"}})
    member = await call("POST", "/members", {"display_name": "Alice", "legal_name": "Alice Li", "pin": "7"})
    mid = member["id"]
    await call("PATCH", f"/members/{mid}", {"card": "7007"})
    sensitive = {"phone": "138 0013 8000", "id_number": "110101199001011234", "birth_date": "1990-01-01"}
    await call("PUT", f"/members/{mid}/sensitive", sensitive | {"guardian_contact": "Li Ming"})
    await call(
        "POST", f"/members/{mid}/consents", {"kind": "biometric", "granted": True, "notice_version": "v1"}
    )
    today = local_date(dt.datetime.now(dt.UTC), "Asia/Shanghai")  # the org's "this month"
    last_month = period_key(PeriodKind.MONTH, today.replace(day=1) - dt.timedelta(days=1))
    for key, day in (("now", today), ("before", dt.date.fromisoformat(f"{last_month}-15"))):
        award = {
            "member_ids": [mid],
            "point_type": "A",
            "points": 3,
            "reason": "helped",
            "effective_date": str(day),
        }
        await call("POST", "/ledger-events", award, **{"Idempotency-Key": key})
    entries = await call("GET", f"/ledger-entries?member_id={mid}")
    await call("POST", f"/ledger-entries/{entries[0]['id']}/appeals", {"reason": "wrong day"})
    await call("POST", "/attendance/corrections", {"member_id": mid, "day": "2026-11-04", "reason": "badge"})
    await call("POST", "/authority-limits", {"manager_member_id": mid, "point_type": "A", "max_points": 5})
    await call("POST", "/ranking-snapshots", {"point_type": "A", "period": "month", "key": last_month})
    await call("POST", "/agents", {"agent_id": "box-1"})
    await call("POST", "/displays", {"agent_id": "box-1", "sign": "lobby", "point_type": "A"})
    command = await call(
        "POST", "/agents/box-1/commands", {"type": "user_upsert", "args": {"pin": "7", "name": "Alice"}}
    )
    async with app.state.sessions() as session:
        await issue_token(session, t.org_id, Role.MANAGER, label="Alice's phone", member_id=mid)
        agent = (await session.scalars(select(Agent).where(Agent.agent_id == "box-1"))).one()
        now = dt.datetime.now(dt.UTC)
        common = {"org_id": t.org_id, "agent_pk": agent.id, "seq": 1, "occurred_at": now}
        result = {"cmd_id": command["cmd_id"], "ok": True, "detail": "enrolled on 1 device"}
        session.add(AgentEvent(**common, event_id="r1", kind="cmd_result", device="", data=result))
        entry = (await session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == mid))).first()
        assert entry is not None
        session.add(
            AttendancePunch(
                **common | {"seq": 2},
                event_id="p1",
                device="front-door",
                pin="7",
                member_id=mid,
                device_time="2026-11-04 08:59:00",
                received_at=now,
                verify_mode="card",
                state="in",
                dedup_key="front|7",
                ledger_entry_id=entry.id,
            )
        )
        assert (await session.scalars(select(AgentCommand))).one().args["pin"] == "7"
        await session.commit()
    await roster_and_calendar(app, call, mid)
    await call("PATCH", f"/members/{mid}", {"status": "left"})
    return t.token, mid


async def roster_and_calendar(app: FastAPI, call: Any, mid: int) -> None:
    """The member on a site's terminal (credential kinds, a check that found their PIN missing), an
    access request, leave and a shift of their own."""
    site = await call("POST", "/sites", {"name": "Head office"})
    await call("POST", "/agents", {"agent_id": "box-2", "site_id": site["id"]})
    await call("PUT", f"/roster/sites/{site['id']}/links", {"member_ids": [mid]})
    await call("PUT", f"/roster/members/{mid}/credentials", {"kinds": ["pin", "card"]})
    export = await call("GET", f"/members/{mid}/export")
    [placed] = export["roster"]
    assert (placed["agent_id"], placed["device"], placed["state"]) == ("box-2", "*", "pending")
    assert placed["intended"] == {"pin": "7", "name": "Alice", "card": 7007, "credentials": ["card", "pin"]}
    await call("POST", "/roster/requests", {"member_id": mid, "kind": "access", "reason": "asked"})
    leave = {"member_id": mid, "first_day": "2026-11-16", "last_day": "2026-11-17", "reason": "sick"}
    await call("POST", "/attendance/leaves", leave)
    # Control: another member's rows stay out of this member's export.
    bob = await call("POST", "/members", {"display_name": "Bob", "pin": "99"})
    await call("POST", "/attendance/leaves", leave | {"member_id": bob["id"], "reason": "Bob's"})
    await call("POST", "/roster/requests", {"member_id": bob["id"], "kind": "correction"})
    shift = await call("POST", "/attendance/shifts", {"name": "night", "start": "22:00", "end": "06:00"})
    await call("PUT", "/attendance/shift-assignments", {"shift_id": shift["id"], "member_id": mid})
    async with app.state.sessions() as session:
        agent = (await session.scalars(select(Agent).where(Agent.agent_id == "box-2"))).one()
        report = {"door": {"state": "failed", "extra": ["99"], "missing": ["7"]}}
        session.add(
            RosterCheckRun(
                org_id=agent.org_id,
                agent_pk=agent.id,
                cmd_id="c1",
                applied_at=agent.created_at,
                report=report,
            )
        )
        await session.commit()


def shape(export: dict[str, Any]) -> dict[str, list[str]]:
    """Each section's field names (objects: their keys; lists: the keys of their items)."""
    out = {}
    for section, value in export.items():
        items = value if isinstance(value, list) else [value]
        out[section] = sorted({key for item in items for key in item})
    return out


async def test_the_export_has_a_place_for_every_personal_column(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token, mid = await populated_member(app, client)
    response = await client.get(f"/api/v1/members/{mid}/export", headers=auth(token))
    assert response.status_code == 200, response.text
    export = response.json()
    empty = sorted(section for section, value in export.items() if not value)
    assert empty == [], f"sections with nothing in them for a fully populated member: {empty}"
    fields = shape(export)
    missing = {
        f"{table}.{column} → {place}"
        for table, columns in PERSONAL.items()
        for column, place in columns.items()
        if place.partition(".")[2] not in fields.get(place.partition(".")[0], [])
    }
    assert missing == set()
    assert export["sensitive"]["phone"] == "+8613800138000"
    assert export["enrolment"][0] | {"queued_at": None} == {
        "agent_id": "box-1",
        "command": "user_upsert",
        "args": {"pin": "7", "name": "Alice"},
        "status": "succeeded",
        "detail": "enrolled on 1 device",
        "queued_at": None,
    }
    assert [(d["sign"], d["shown_as"]) for d in export["display_appearances"]] == [("lobby", "Alice")]
    assert {a["action"] for a in export["audit"]} >= {"member.create", "member.sensitive.write"} - {""}
    [placed] = [row for row in export["roster"] if row["agent_id"] == "box-2"]
    assert (placed["member_id"], placed["pin"], placed["device"]) == (mid, "7", "*")
    assert placed["intended"] is None  # the member left: the roster now wants them off the terminal
    assert export["credentials"][0]["kinds"] == ["card", "pin"]
    assert [c["report"] for c in export["roster_checks"]] == [{"state": "failed", "missing": ["7"]}]
    assert [(r["kind"], r["state"], r["reason"]) for r in export["requests"]] == [("access", "open", "asked")]
    assert [(x["first_day"], x["last_day"]) for x in export["leave"]] == [("2026-11-16", "2026-11-17")]
    assert [(x["name"], x["start"], x["end"]) for x in export["shifts"]] == [
        ("night", "22:00:00", "06:00:00")
    ]
    if os.environ.get("MPM_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert fields == json.loads(GOLDEN.read_text(encoding="utf-8"))


async def test_erasure_takes_the_rows_that_exist_only_about_the_person(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token, mid = await populated_member(app, client)
    export = (await client.get(f"/api/v1/members/{mid}/export", headers=auth(token))).json()
    about_the_person = ("leave", "shifts", "credentials", "sites")
    assert all(export[section] for section in about_the_person)  # control: all there before
    erased = await client.post(f"/api/v1/members/{mid}/erase", headers=auth(token))
    assert erased.is_success, erased.text
    export = (await client.get(f"/api/v1/members/{mid}/export", headers=auth(token))).json()
    assert [section for section in about_the_person if export[section]] == []
    assert [r["kind"] for r in export["requests"]] == ["access", "erasure"]  # the record of what was done
