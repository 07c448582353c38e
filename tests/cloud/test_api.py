"""The admin API through httpx's ASGI transport against a real database."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from cloud.db.models import Role
from cloud.domain.orgs import issue_token
from tests.cloud import factories
from tests.cloud.factories import Tenant

PROBLEM = "application/problem+json"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_tenant(app: FastAPI, name: str) -> Tenant:
    async with app.state.sessions() as session:
        t = await factories.tenant(session, name)
        await session.commit()
    return t


async def token_for(app: FastAPI, t: Tenant, role: Role) -> str:
    async with app.state.sessions() as session:
        token = await issue_token(session, t.org_id, role)
        await session.commit()
    return token


def assert_problem(response: httpx.Response, status: int, detail_part: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert detail_part in body["detail"]


async def test_missing_and_wrong_tokens_are_401_problems(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    assert_problem(await client.get("/api/v1/org"), 401, "bearer token is required")
    assert_problem(await client.get("/api/v1/org", headers=auth("nope")), 401, "unknown, expired or revoked")
    ok = await client.get("/api/v1/org", headers=auth(t.token))  # control
    assert ok.status_code == 200
    assert ok.json()["name"] == "Acme"


async def test_viewer_cannot_write(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    viewer = await token_for(app, t, Role.VIEWER)
    body = {"display_name": "Alice"}
    assert_problem(await client.post("/api/v1/members", json=body, headers=auth(viewer)), 403, "manager")
    assert (await client.post("/api/v1/members", json=body, headers=auth(t.token))).status_code == 201


async def test_another_orgs_ids_answer_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    mine, theirs = await make_tenant(app, "Mine"), await make_tenant(app, "Theirs")
    member = (
        await client.post("/api/v1/members", json={"display_name": "X"}, headers=auth(theirs.token))
    ).json()
    site = (await client.post("/api/v1/sites", json={"name": "S"}, headers=auth(theirs.token))).json()
    agent = {"agent_id": "their-agent", "site_id": site["id"]}
    assert (await client.post("/api/v1/agents", json=agent, headers=auth(theirs.token))).status_code == 201
    for path in (
        f"/api/v1/members/{member['id']}",
        f"/api/v1/sites/{site['id']}",
        "/api/v1/agents/their-agent",
    ):
        assert_problem(await client.get(path, headers=auth(mine.token)), 404, "not found")
        assert (await client.get(path, headers=auth(theirs.token))).status_code == 200  # control
    entry = {"member_id": member["id"], "point_type": "A", "points": 3}
    headers = auth(mine.token) | {"Idempotency-Key": "x"}
    assert_problem(await client.post("/api/v1/ledger-entries", json=entry, headers=headers), 404, "member")
    mine_agent = {"agent_id": "mine-agent", "site_id": site["id"]}
    assert_problem(
        await client.post("/api/v1/agents", json=mine_agent, headers=auth(mine.token)), 404, "site"
    )
    assert (await client.get("/api/v1/members", headers=auth(mine.token))).json() == []


async def test_validation_errors_are_problems(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    bad_agent = await client.post("/api/v1/agents", json={"agent_id": "Bad_Id"}, headers=auth(t.token))
    assert_problem(bad_agent, 422, "agent_id")
    assert bad_agent.json()["errors"]
    nul_name = await client.post("/api/v1/members", json={"display_name": "A\x00"}, headers=auth(t.token))
    assert_problem(nul_name, 422, "control characters")
    bad_rank = await client.get(
        "/api/v1/rankings?point_type=A&period=month&key=2026-13", headers=auth(t.token)
    )
    assert_problem(bad_rank, 422, "not a valid month key")


async def test_ledger_idempotency_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    member = (
        await client.post("/api/v1/members", json={"display_name": "Alice"}, headers=auth(t.token))
    ).json()
    entry = {"member_id": member["id"], "point_type": "A", "points": 3, "reason": "helped"}
    headers = auth(t.token) | {"Idempotency-Key": "award-1"}
    first = await client.post("/api/v1/ledger-entries", json=entry, headers=headers)
    again = await client.post("/api/v1/ledger-entries", json=entry, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    changed = await client.post("/api/v1/ledger-entries", json=entry | {"points": 4}, headers=headers)
    assert_problem(changed, 409, "different entry")
    missing = await client.post("/api/v1/ledger-entries", json=entry, headers=auth(t.token))
    assert_problem(missing, 422, "Idempotency-Key")
    listed = await client.get(f"/api/v1/ledger-entries?member_id={member['id']}", headers=auth(t.token))
    assert [e["points"] for e in listed.json()] == [3]


async def test_rule_bounds_and_zero_points(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    member = (await client.post("/api/v1/members", json={"display_name": "A"}, headers=h)).json()
    rule = {"name": "help", "point_type": "A", "points": 2, "min_points": 1, "max_points": 5}
    rule_id = (await client.post("/api/v1/rules", json=rule, headers=h)).json()["id"]
    base = {"member_id": member["id"], "point_type": "A", "rule_id": rule_id}
    too_many = await client.post(
        "/api/v1/ledger-entries", json=base | {"points": 9}, headers=h | {"Idempotency-Key": "a"}
    )
    assert_problem(too_many, 422, "at most 5")
    default = await client.post("/api/v1/ledger-entries", json=base, headers=h | {"Idempotency-Key": "b"})
    assert default.json()["points"] == 2
    zero = {"member_id": member["id"], "point_type": "A", "points": 0}
    assert_problem(
        await client.post("/api/v1/ledger-entries", json=zero, headers=h | {"Idempotency-Key": "c"}),
        422,
        "non-zero",
    )


@pytest.mark.parametrize("period", ["month", "year", "all"])
async def test_ranking_endpoint(app: FastAPI, client: httpx.AsyncClient, period: str) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    for i, (name, points) in enumerate([("Bob", 3), ("Alice", 5), ("Carol", 3), ("Dave", 1)]):
        m = (await client.post("/api/v1/members", json={"display_name": name}, headers=h)).json()
        entry = {"member_id": m["id"], "point_type": "A", "points": points, "effective_date": "2026-11-03"}
        assert (
            await client.post("/api/v1/ledger-entries", json=entry, headers=h | {"Idempotency-Key": str(i)})
        ).status_code == 201
    key = {"month": "2026-11", "year": "2026", "all": "all"}[period]
    response = await client.get(f"/api/v1/rankings?period={period}&key={key}&point_type=A&limit=3", headers=h)
    assert response.status_code == 200
    body = response.json()
    assert (body["period"], body["key"], body["point_type"]) == (period, key, "A")
    assert [(r["rank"], r["display_name"], r["points"]) for r in body["rows"]] == [
        (1, "Alice", 5),
        (2, "Bob", 3),
        (2, "Carol", 3),
    ]


async def test_crud_lite_routes(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    site = (await client.post("/api/v1/sites", json={"name": "HQ"}, headers=h)).json()
    renamed = await client.patch(f"/api/v1/sites/{site['id']}", json={"name": "Head office"}, headers=h)
    assert renamed.json()["name"] == "Head office"
    assert (
        await client.post("/api/v1/agents", json={"agent_id": "hq-1", "site_id": site["id"]}, headers=h)
    ).status_code == 201
    assert_problem(
        await client.post("/api/v1/agents", json={"agent_id": "hq-1"}, headers=h), 409, "already registered"
    )
    agent = (await client.get("/api/v1/agents/hq-1", headers=h)).json()
    assert agent["last_status"] is None
    assert (
        await client.post("/api/v1/point-types", json={"code": "B", "name": "B points"}, headers=h)
    ).status_code == 201
    assert [p["code"] for p in (await client.get("/api/v1/point-types", headers=h)).json()] == ["A", "B"]
    display = {"agent_id": "hq-1", "sign": "lobby", "point_type": "A", "size": 3, "title": "Top 3"}
    assert (await client.post("/api/v1/displays", json=display, headers=h)).status_code == 201
    assert [d["sign"] for d in (await client.get("/api/v1/displays", headers=h)).json()] == ["lobby"]
    rules = (await client.get("/api/v1/rules", headers=h)).json()
    attendance = {
        "shift_start": "08:30:00",
        "on_time_rule_id": rules[0]["id"],
        "late_rule_id": rules[1]["id"],
    }
    assert (await client.post("/api/v1/attendance-rules", json=attendance, headers=h)).status_code == 201
    assert len((await client.get("/api/v1/attendance-rules", headers=h)).json()) == 2
    assert (await client.get("/api/v1/punches", headers=h)).json() == []
    members = [
        (await client.post("/api/v1/members", json={"display_name": f"M{i}"}, headers=h)).json()
        for i in range(3)
    ]
    page = (await client.get("/api/v1/members?limit=2&offset=1", headers=h)).json()
    assert [m["id"] for m in page] == [m["id"] for m in members[1:3]]
