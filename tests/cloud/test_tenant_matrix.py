"""ACC-1: every route that takes an id answers 404 for another organisation's id and changes nothing.

The table below must name every route with a path parameter; a new route without a case fails
``test_every_route_with_an_id_has_a_case``.
"""

from __future__ import annotations

import dataclasses

import httpx
from fastapi import FastAPI

from tests.cloud import factories


@dataclasses.dataclass(frozen=True)
class Case:
    method: str
    path: str  # with {placeholders} filled from the other tenant's objects
    body: dict[str, object] | None = None


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/sites/{site_id}"): Case("GET", "/api/v1/sites/{site}"),
    ("PATCH", "/api/v1/sites/{site_id}"): Case("PATCH", "/api/v1/sites/{site}", {"name": "hijacked"}),
    ("GET", "/api/v1/agents/{agent_id}"): Case("GET", "/api/v1/agents/{agent}"),
    ("GET", "/api/v1/members/{member_id}"): Case("GET", "/api/v1/members/{member}"),
}

# Routes that take another object's id in the body or query, with that id filled in.
BODY_CASES = [
    Case("POST", "/api/v1/agents", {"agent_id": "new-agent", "site_id": "{site}"}),
    Case("POST", "/api/v1/ledger-entries", {"member_id": "{member}", "point_type": "A", "points": 1}),
    Case("POST", "/api/v1/displays", {"agent_id": "{agent}", "sign": "s", "point_type": "A"}),
    Case(
        "POST",
        "/api/v1/attendance-rules",
        {"shift_start": "09:00", "on_time_rule_id": "{rule}", "late_rule_id": "{rule}"},
    ),
    Case("GET", "/api/v1/punches?agent_id={agent}"),
]


def test_every_route_with_an_id_has_a_case(app: FastAPI) -> None:
    # the OpenAPI document lists every route, however routers are nested
    with_ids = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{" in path
        for method in operations
    }
    assert with_ids
    assert with_ids <= set(CASES), f"add a tenant-isolation case for {sorted(with_ids - set(CASES))}"


async def test_foreign_ids_answer_404_and_change_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with app.state.sessions() as session:
        mine = await factories.tenant(session, "Mine")
        theirs = await factories.tenant(session, "Theirs")
        await session.commit()
    h = {"Authorization": f"Bearer {theirs.token}"}
    site = (await client.post("/api/v1/sites", json={"name": "Theirs HQ"}, headers=h)).json()["id"]
    member = (await client.post("/api/v1/members", json={"display_name": "T"}, headers=h)).json()["id"]
    await client.post("/api/v1/agents", json={"agent_id": "their-agent"}, headers=h)
    ids = {"site": site, "member": member, "agent": "their-agent", "rule": theirs.on_time_rule_id}
    before = await snapshot(client, h)
    mine_headers = {"Authorization": f"Bearer {mine.token}", "Idempotency-Key": "k"}
    for case in [*CASES.values(), *BODY_CASES]:
        response = await client.request(
            case.method, case.path.format(**ids), json=fill(case.body, ids), headers=mine_headers
        )
        assert response.status_code == 404, (case, response.text)
        assert "not found" in response.json()["detail"]
    assert await snapshot(client, h) == before


def fill(body: dict[str, object] | None, ids: dict[str, object]) -> dict[str, object] | None:
    if body is None:
        return None
    return {k: ids[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v for k, v in body.items()}


async def snapshot(client: httpx.AsyncClient, headers: dict[str, str]) -> list[object]:
    paths = [
        "/api/v1/sites",
        "/api/v1/members",
        "/api/v1/agents",
        "/api/v1/ledger-entries",
        "/api/v1/displays",
    ]
    return [(await client.get(p, headers=headers)).json() for p in paths]
