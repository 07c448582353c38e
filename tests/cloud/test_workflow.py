"""The award workflow through the API: authority, pending → approve/reject, no self-award, revocation,
appeals, multi-member events, idempotency, and rankings by period × department × order."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cloud.db.models import Role
from cloud.domain.orgs import issue_token
from tests.cloud.test_api import assert_problem, auth, make_tenant

DAY = "2026-11-05"


async def manager_token(app: FastAPI, org_id: int, member_id: int) -> str:
    async with app.state.sessions() as session:
        token = await issue_token(session, org_id, Role.MANAGER)
        from sqlalchemy import update

        from cloud.db.models import ApiToken
        from cloud.security import hash_token

        await session.execute(
            update(ApiToken).where(ApiToken.token_hash == hash_token(token)).values(member_id=member_id)
        )
        await session.commit()
    return token


async def members(client: httpx.AsyncClient, h: dict[str, str], *names: str) -> list[int]:
    return [
        (await client.post("/api/v1/members", json={"display_name": n}, headers=h)).json()["id"]
        for n in names
    ]


async def event(
    client: httpx.AsyncClient, h: dict[str, str], key: str, member_ids: list[int], points: int
) -> httpx.Response:
    body = {"member_ids": member_ids, "point_type": "A", "points": points, "effective_date": DAY}
    return await client.post("/api/v1/ledger-events", json=body, headers=h | {"Idempotency-Key": key})


async def ranking(
    client: httpx.AsyncClient, h: dict[str, str], query: str = ""
) -> list[tuple[int, str, int]]:
    response = await client.get(f"/api/v1/rankings?point_type=A&period=month&key=2026-11{query}", headers=h)
    assert response.status_code == 200, response.text
    return [(r["rank"], r["display_name"], r["points"]) for r in response.json()["rows"]]


async def test_authority_decides_between_approved_and_pending(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    boss, alice, bob = await members(client, admin, "Boss", "Alice", "Bob")
    limit = {"manager_member_id": boss, "point_type": "A", "max_points": 5}
    assert (await client.post("/api/v1/authority-limits", json=limit, headers=admin)).status_code == 201
    manager = auth(await manager_token(app, t.org_id, boss))
    within = (await event(client, manager, "e1", [alice, bob], 5)).json()
    beyond = (await event(client, manager, "e2", [alice], -8)).json()
    assert (within["status"], within["member_ids"]) == ("approved", [alice, bob])
    assert beyond["status"] == "pending"
    assert await ranking(client, admin) == [(1, "Alice", 5), (1, "Bob", 5)]  # pending moves nothing
    own = await client.post(f"/api/v1/ledger-events/{beyond['id']}/approve", json={}, headers=manager)
    assert_problem(own, 403, "own submission")
    approved = await client.post(
        f"/api/v1/ledger-events/{beyond['id']}/approve", json={"comment": "ok"}, headers=admin
    )
    assert approved.json()["status"] == "approved"
    assert await ranking(client, admin) == [(1, "Bob", 5), (2, "Alice", -3)]
    again = await client.post(f"/api/v1/ledger-events/{beyond['id']}/reject", json={}, headers=admin)
    assert_problem(again, 409, "already approved")


async def test_rejected_and_self_awards(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    boss, alice = await members(client, admin, "Boss", "Alice")
    manager = auth(await manager_token(app, t.org_id, boss))
    assert_problem(await event(client, manager, "self", [alice, boss], 1), 403, "themselves")
    pending = (await event(client, manager, "p", [alice], 2)).json()  # no limit: everything pending
    assert pending["status"] == "pending"
    rejected = await client.post(
        f"/api/v1/ledger-events/{pending['id']}/reject", json={"comment": "no"}, headers=admin
    )
    assert (rejected.json()["status"], rejected.json()["decision_comment"]) == ("rejected", "no")
    assert await ranking(client, admin) == []
    queue = await client.get("/api/v1/ledger-events?status=pending", headers=admin)
    assert queue.json() == []


async def test_revocation_and_appeal_are_compensating_entries(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    (alice,) = await members(client, admin, "Alice")
    await event(client, admin, "a", [alice], 5)
    await event(client, admin, "b", [alice], -3)
    entries = (await client.get(f"/api/v1/ledger-entries?member_id={alice}", headers=admin)).json()
    deduction, award = entries[0], entries[1]
    revoked = await client.post(
        f"/api/v1/ledger-entries/{award['id']}/revoke", json={"reason": "mistake"}, headers=admin
    )
    assert (revoked.status_code, revoked.json()["points"], revoked.json()["revokes_id"]) == (
        201,
        -5,
        award["id"],
    )
    twice = await client.post(
        f"/api/v1/ledger-entries/{award['id']}/revoke", json={"reason": "x"}, headers=admin
    )
    assert_problem(twice, 409, "already revoked")
    compensation = revoked.json()["id"]
    assert_problem(
        await client.post(
            f"/api/v1/ledger-entries/{compensation}/revoke", json={"reason": "x"}, headers=admin
        ),
        409,
        "compensation",
    )
    appeal = (
        await client.post(
            f"/api/v1/ledger-entries/{deduction['id']}/appeals", json={"reason": "I was ill"}, headers=admin
        )
    ).json()
    decided = await client.post(
        f"/api/v1/appeals/{appeal['id']}/decide",
        json={"upheld": True, "comment": "doctor's note"},
        headers=admin,
    )
    assert decided.json()["status"] == "upheld"
    assert await ranking(client, admin) == [(1, "Alice", 0)]
    points = [e["points"] for e in (await client.get("/api/v1/ledger-entries", headers=admin)).json()]
    assert sorted(points) == [-5, -3, 3, 5]  # nothing edited, two compensations added


async def test_event_idempotency(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    alice, bob = await members(client, admin, "Alice", "Bob")
    first = await event(client, admin, "k", [alice, bob], 2)
    again = await event(client, admin, "k", [alice, bob], 2)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert_problem(await event(client, admin, "k", [alice, bob], 3), 409, "different")
    assert_problem(await event(client, admin, "k", [alice], 2), 409, "different")
    assert await ranking(client, admin) == [(1, "Alice", 2), (1, "Bob", 2)]


async def test_rankings_by_department_period_and_black_list(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    sales = (await client.post("/api/v1/departments", json={"name": "Sales"}, headers=admin)).json()["id"]
    north = (
        await client.post("/api/v1/departments", json={"name": "North", "parent_id": sales}, headers=admin)
    ).json()["id"]
    ids = {}
    for name, department in [("Alice", sales), ("Bob", north), ("Carol", None), ("Dave", north)]:
        body = {"display_name": name, "department_id": department}
        ids[name] = (await client.post("/api/v1/members", json=body, headers=admin)).json()["id"]
    for i, (name, points) in enumerate([("Alice", 3), ("Bob", 9), ("Carol", 5), ("Dave", 3)]):
        await event(client, admin, f"k{i}", [ids[name]], points)
    assert await ranking(client, admin) == [(1, "Bob", 9), (2, "Carol", 5), (3, "Alice", 3), (3, "Dave", 3)]
    assert await ranking(client, admin, f"&department_id={sales}") == [
        (1, "Bob", 9),
        (2, "Alice", 3),
        (2, "Dave", 3),
    ]
    assert await ranking(client, admin, f"&department_id={north}") == [(1, "Bob", 9), (2, "Dave", 3)]
    assert await ranking(client, admin, "&order=bottom&limit=2") == [(3, "Dave", 3), (3, "Alice", 3)]
    assert await ranking(client, admin, "&limit=2&offset=2") == [(3, "Alice", 3), (3, "Dave", 3)]
    week = await client.get("/api/v1/rankings?point_type=A&period=week&key=2026-W45", headers=admin)
    assert [r["points"] for r in week.json()["rows"]] == [9, 5, 3, 3]
    day = await client.get("/api/v1/rankings?point_type=A&period=day&key=2026-11-06", headers=admin)
    assert day.json()["rows"] == []


async def test_snapshots_freeze_a_closed_period(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    alice, bob = await members(client, admin, "Alice", "Bob")
    await event(client, admin, "a", [alice], 5)
    await event(client, admin, "b", [bob], 3)
    freeze = {"point_type": "A", "period": "week", "key": "2026-W45"}  # 2 to 8 November 2026: closed
    snapshot = await client.post("/api/v1/ranking-snapshots", json=freeze, headers=admin)
    assert snapshot.status_code == 201, snapshot.text
    frozen = [(r["rank"], r["display_name"], r["points"]) for r in snapshot.json()["rows"]]
    assert frozen == [(1, "Alice", 5), (2, "Bob", 3)]
    await event(client, admin, "late", [bob], 4)  # a backdated entry after the close
    assert await ranking(client, admin) == [(1, "Bob", 7), (2, "Alice", 5)]
    again = await client.get(f"/api/v1/ranking-snapshots/{snapshot.json()['id']}", headers=admin)
    assert [(r["rank"], r["display_name"]) for r in again.json()["rows"]] == [(1, "Alice"), (2, "Bob")]
    assert_problem(await client.post("/api/v1/ranking-snapshots", json=freeze, headers=admin), 409, "already")
    current = freeze | {"period": "all", "key": "all"}
    assert_problem(
        await client.post("/api/v1/ranking-snapshots", json=current, headers=admin), 409, "not ended"
    )
