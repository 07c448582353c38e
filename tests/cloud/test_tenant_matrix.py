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
    ("PATCH", "/api/v1/displays/{display_id}"): Case(
        "PATCH", "/api/v1/displays/{display}", {"title": "hijacked"}
    ),
    ("GET", "/api/v1/members/{member_id}"): Case("GET", "/api/v1/members/{member}"),
    ("PATCH", "/api/v1/members/{member_id}"): Case(
        "PATCH", "/api/v1/members/{member}", {"display_name": "x"}
    ),
    ("POST", "/api/v1/members/{member_id}/erase"): Case("POST", "/api/v1/members/{member}/erase"),
    ("GET", "/api/v1/members/{member_id}/sensitive"): Case("GET", "/api/v1/members/{member}/sensitive"),
    ("GET", "/api/v1/members/{member_id}/export"): Case("GET", "/api/v1/members/{member}/export"),
    ("PUT", "/api/v1/members/{member_id}/sensitive"): Case(
        "PUT", "/api/v1/members/{member}/sensitive", {"phone": "13800138000"}
    ),
    ("GET", "/api/v1/members/{member_id}/consents"): Case("GET", "/api/v1/members/{member}/consents"),
    ("POST", "/api/v1/members/{member_id}/consents"): Case(
        "POST",
        "/api/v1/members/{member}/consents",
        {"kind": "public_display", "granted": True, "notice_version": "1"},
    ),
    ("GET", "/api/v1/departments/{department_id}"): Case("GET", "/api/v1/departments/{department}"),
    ("PUT", "/api/v1/departments/{department_id}"): Case(
        "PUT", "/api/v1/departments/{department}", {"name": "hijacked"}
    ),
    ("DELETE", "/api/v1/departments/{department_id}"): Case("DELETE", "/api/v1/departments/{department}"),
    ("POST", "/api/v1/ledger-entries/{entry_id}/revoke"): Case(
        "POST", "/api/v1/ledger-entries/{entry}/revoke", {"reason": "x"}
    ),
    ("POST", "/api/v1/ledger-entries/{entry_id}/appeals"): Case(
        "POST", "/api/v1/ledger-entries/{entry}/appeals", {"reason": "x"}
    ),
    ("GET", "/api/v1/ledger-events/{event_id}"): Case("GET", "/api/v1/ledger-events/{event}"),
    ("POST", "/api/v1/ledger-events/{event_id}/approve"): Case(
        "POST", "/api/v1/ledger-events/{event}/approve", {}
    ),
    ("POST", "/api/v1/ledger-events/{event_id}/reject"): Case(
        "POST", "/api/v1/ledger-events/{event}/reject", {}
    ),
    ("POST", "/api/v1/appeals/{appeal_id}/decide"): Case(
        "POST", "/api/v1/appeals/{appeal}/decide", {"upheld": True}
    ),
    ("DELETE", "/api/v1/authority-limits/{limit_id}"): Case("DELETE", "/api/v1/authority-limits/{limit}"),
    ("DELETE", "/api/v1/tokens/{token_id}"): Case("DELETE", "/api/v1/tokens/{token}"),
    ("POST", "/api/v1/tokens/{token_id}/rotate"): Case("POST", "/api/v1/tokens/{token}/rotate"),
    ("GET", "/api/v1/ranking-snapshots/{snapshot_id}"): Case("GET", "/api/v1/ranking-snapshots/{snapshot}"),
    ("POST", "/api/v1/agents/{agent_id}/commands"): Case(
        "POST", "/api/v1/agents/{agent}/commands", {"type": "sync_time"}
    ),
    ("GET", "/api/v1/agents/{agent_id}/commands"): Case("GET", "/api/v1/agents/{agent}/commands"),
    ("POST", "/api/v1/agents/{agent_id}/retire"): Case("POST", "/api/v1/agents/{agent}/retire"),
    ("GET", "/api/v1/agents/{agent_id}/commands/{cmd_id}"): Case(
        "GET", "/api/v1/agents/{agent}/commands/{command}"
    ),
    ("POST", "/api/v1/sites/{site_id}/enrolment-tokens"): Case(
        "POST", "/api/v1/sites/{site}/enrolment-tokens", {}
    ),
    ("GET", "/api/v1/sites/{site_id}/enrolment-tokens/{token_id}/qr.png"): Case(
        "GET", "/api/v1/sites/{site}/enrolment-tokens/1/qr.png"
    ),
    ("POST", "/api/v1/display-links/{link_id}/revoke"): Case("POST", "/api/v1/display-links/{link}/revoke"),
    ("PUT", "/api/v1/agents/{agent_id}/inventory"): Case(
        "PUT", "/api/v1/agents/{agent}/inventory", {"devices": []}
    ),
    ("GET", "/api/v1/agents/{agent_id}/inventory"): Case("GET", "/api/v1/agents/{agent}/inventory"),
    ("DELETE", "/api/v1/fleet/webhooks/{webhook_id}"): Case("DELETE", "/api/v1/fleet/webhooks/{webhook}"),
    ("GET", "/api/v1/fleet/webhooks/{webhook_id}/deliveries"): Case(
        "GET", "/api/v1/fleet/webhooks/{webhook}/deliveries"
    ),
    ("PUT", "/api/v1/roster/sites/{site_id}/links"): Case("PUT", "/api/v1/roster/sites/{site}/links", {}),
    ("GET", "/api/v1/roster/sites/{site_id}/links"): Case("GET", "/api/v1/roster/sites/{site}/links"),
    ("PUT", "/api/v1/roster/members/{member_id}/credentials"): Case(
        "PUT", "/api/v1/roster/members/{member}/credentials", {"kinds": ["pin"]}
    ),
    ("GET", "/api/v1/roster/members/{member_id}"): Case("GET", "/api/v1/roster/members/{member}"),
    ("GET", "/api/v1/roster/devices/{agent_id}/{device}"): Case("GET", "/api/v1/roster/devices/{agent}/zk"),
    ("GET", "/api/v1/roster/requests/{request_id}"): Case("GET", "/api/v1/roster/requests/{request}"),
    ("POST", "/api/v1/roster/requests/{request_id}/close"): Case(
        "POST", "/api/v1/roster/requests/{request}/close"
    ),
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
    Case("POST", "/api/v1/members", {"display_name": "x", "department_id": "{department}"}),
    Case("POST", "/api/v1/departments", {"name": "x", "parent_id": "{department}"}),
    Case("POST", "/api/v1/ledger-events", {"member_ids": ["{member}"], "point_type": "A", "points": 1}),
    Case(
        "POST",
        "/api/v1/authority-limits",
        {"manager_member_id": "{member}", "point_type": "A", "max_points": 1},
    ),
    Case("POST", "/api/v1/tokens", {"role": "viewer", "member_id": "{member}"}),
    Case("GET", "/api/v1/rankings?point_type=A&department_id={department}"),
    Case(
        "POST",
        "/api/v1/attendance/corrections",
        {"member_id": "{member}", "day": "2026-11-02", "reason": "x"},
    ),
    Case(
        "POST",
        "/api/v1/attendance-rules",
        {
            "shift_start": "09:00",
            "on_time_rule_id": "{rule}",
            "late_rule_id": "{rule}",
            "absence_rule_id": "{rule}",
        },
    ),
    Case(
        "POST",
        "/api/v1/ranking-snapshots",
        {"point_type": "A", "key": "2020-01", "department_id": "{department}"},
    ),
    Case("POST", "/api/v1/roster/erasures", {"member_ids": ["{member}"]}),
    Case("POST", "/api/v1/roster/requests", {"member_id": "{member}", "kind": "access"}),
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
    ids = await their_objects(client, h, theirs)
    before = await snapshot(client, h)
    mine_headers = {"Authorization": f"Bearer {mine.token}", "Idempotency-Key": "k"}
    for case in [*CASES.values(), *BODY_CASES]:
        response = await client.request(
            case.method, case.path.format(**ids), json=fill(case.body, ids), headers=mine_headers
        )
        assert response.status_code == 404, (case, response.text)
        assert "not found" in response.json()["detail"]
    assert await snapshot(client, h) == before


async def their_objects(
    client: httpx.AsyncClient, h: dict[str, str], theirs: factories.Tenant
) -> dict[str, object]:
    async def post(path: str, body: dict[str, object], key: str = "") -> dict[str, object]:
        headers = h | ({"Idempotency-Key": key} if key else {})
        response = await client.post(f"/api/v1/{path}", json=body, headers=headers)
        assert response.status_code == 201, response.text
        result: dict[str, object] = response.json()
        return result

    site = (await post("sites", {"name": "Theirs HQ"}))["id"]
    member = (await post("members", {"display_name": "T"}))["id"]
    await post("agents", {"agent_id": "their-agent"})
    display = (await post("displays", {"agent_id": "their-agent", "sign": "theirs", "point_type": "A"}))["id"]
    department = (await post("departments", {"name": "Theirs"}))["id"]
    award = {"member_ids": [member], "point_type": "A", "points": 2}
    await post("ledger-events", award, "a")
    entry = (await client.get("/api/v1/ledger-entries", headers=h)).json()[0]["id"]
    appeal = (await post(f"ledger-entries/{entry}/appeals", {"reason": "no"}))["id"]
    limit = (
        await post("authority-limits", {"manager_member_id": member, "point_type": "A", "max_points": 0})
    )["id"]
    boss = (await post("tokens", {"role": "manager", "member_id": member}))["token"]
    other = (await post("members", {"display_name": "U"}))["id"]
    pending = await client.post(
        "/api/v1/ledger-events",
        json={"member_ids": [other], "point_type": "A", "points": 1},
        headers={"Authorization": f"Bearer {boss}", "Idempotency-Key": "p"},
    )
    assert pending.json()["status"] == "pending"
    token = (await client.get("/api/v1/tokens", headers=h)).json()[-1]["id"]
    command = (await post("agents/their-agent/commands", {"type": "sync_time"}))["cmd_id"]
    snapshot = (await post("ranking-snapshots", {"point_type": "A", "period": "year", "key": "2020"}))["id"]
    link = (await post("display-links", {"label": "their wall"}))["id"]
    inventory = await client.put("/api/v1/agents/their-agent/inventory", json={"devices": []}, headers=h)
    assert inventory.status_code == 200, inventory.text
    webhook = (await post("fleet/webhooks", {"url": "https://ops.example.com/theirs"}))["id"]
    request = (await post("roster/requests", {"member_id": member, "kind": "access"}))["id"]
    return {
        "site": site,
        "member": member,
        "agent": "their-agent",
        "display": display,
        "rule": theirs.on_time_rule_id,
        "department": department,
        "entry": entry,
        "event": pending.json()["id"],
        "appeal": appeal,
        "limit": limit,
        "token": token,
        "snapshot": snapshot,
        "command": command,
        "link": link,
        "webhook": webhook,
        "request": request,
    }


def fill(body: dict[str, object] | None, ids: dict[str, object]) -> dict[str, object] | None:
    if body is None:
        return None
    return {k: _filled(v, ids) for k, v in body.items()}


def _filled(value: object, ids: dict[str, object]) -> object:
    if isinstance(value, list):
        return [_filled(v, ids) for v in value]
    return ids[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value


async def snapshot(client: httpx.AsyncClient, headers: dict[str, str]) -> list[object]:
    paths = [
        "/api/v1/sites",
        "/api/v1/members",
        "/api/v1/agents",
        "/api/v1/ledger-entries",
        "/api/v1/displays",
        "/api/v1/departments",
        "/api/v1/ledger-events",
        "/api/v1/appeals",
        "/api/v1/authority-limits",
        "/api/v1/tokens",
        "/api/v1/ranking-snapshots",
        "/api/v1/attendance/corrections",
        "/api/v1/agents/their-agent/commands",
        "/api/v1/display-links",
        "/api/v1/fleet/webhooks",
        "/api/v1/agents/their-agent/inventory",
        "/api/v1/audit?limit=500",
        "/api/v1/roster/requests",
    ]
    return [(await client.get(p, headers=headers)).json() for p in paths]
