"""The fleet view and the alert settings through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI

from cloud.db.base import utc_now
from cloud.db.models import Agent, Role
from cloud.domain.orgs import issue_token
from tests.cloud import factories
from tests.cloud.fleet.support import OFFLINE, online, site


async def test_the_fleet_view_shows_each_agent_as_last_reported(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    await acme.report(
        online(
            backlog_rows=42,
            oldest_unacked_age_s=12.5,
            devices={"front-door": "up", "lobby": "down"},
            device_errors={"lobby": 3},
        )
    )
    async with app.state.sessions() as session:
        other = await factories.tenant(session, "Other")
        session.add(Agent(agent_id="other-site", org_id=other.org_id))
        await session.commit()

    fleet = (await acme.get("/fleet")).json()

    assert [a["agent_id"] for a in fleet["agents"]] == ["site-1"]  # never another organisation's
    agent = fleet["agents"][0]
    assert agent["online"] is True
    assert agent["software_version"] == "1.2.3"
    assert (agent["backlog_rows"], agent["oldest_unacked_age_s"]) == (42, 12.5)
    assert agent["devices"] == [
        {"name": "front-door", "state": "up", "errors": 0},
        {"name": "lobby", "state": "down", "errors": 3},
    ]
    assert (fleet["agents_online"], fleet["devices_down"]) == (1, 1)
    assert abs(dt.datetime.fromisoformat(agent["last_seen"]) - utc_now()) < dt.timedelta(minutes=1)


async def test_an_offline_agent_shows_offline_with_no_devices_known(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    await acme.report(online(devices={"front-door": "down"}))
    await acme.report(OFFLINE)

    agent = (await acme.get("/fleet")).json()["agents"][0]

    assert agent["online"] is False
    assert agent["devices"] == []  # the last will knows none: an offline box's devices are unknown
    assert agent["devices_down"] == 0


async def test_alert_rules_have_defaults_and_are_configurable(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    defaults = (await acme.get("/fleet/alert-rules")).json()
    assert defaults == {
        "agent_offline_after_s": 300,
        "status_silence_s": 1800,
        "backlog_max_age_s": 900,
        "device_down": True,
        "cert_expiry_days": 30,
    }

    changed = defaults | {"agent_offline_after_s": 600, "cert_expiry_days": None}
    assert (await acme.send("PUT", "/fleet/alert-rules", changed)).status_code == 200
    assert (await acme.get("/fleet/alert-rules")).json() == changed


async def test_bad_alert_settings_are_refused_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    for body, field in [
        ({"agent_offline_after_s": 5}, "agent_offline_after_s"),
        ({"offline_after": 300}, "offline_after"),
        ({"device_down": "sometimes"}, "device_down"),
    ]:
        answer = await acme.send("PUT", "/fleet/alert-rules", body)
        assert answer.status_code == 422, body
        assert field in answer.text
    for url in ["ftp://example.com/x", "not a url", "http://"]:
        answer = await acme.send("POST", "/fleet/webhooks", {"url": url})
        assert answer.status_code == 422, url
        assert "url" in answer.text
    assert (await acme.get("/fleet/alert-rules")).json()["agent_offline_after_s"] == 300  # nothing changed


async def test_only_an_org_admin_manages_webhooks_and_rules(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme = await site(app, client)
    async with app.state.sessions() as session:
        org_id = (await session.get(Agent, 1) or Agent(org_id=0)).org_id
        viewer = await issue_token(session, org_id, Role.VIEWER)
        await session.commit()
    headers = {"Authorization": f"Bearer {viewer}"}

    assert (await client.get("/api/v1/fleet", headers=headers)).status_code == 200
    hook = await client.post("/api/v1/fleet/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=headers)
    assert hook.status_code == 403
    assert (await client.post("/api/v1/fleet/webhook-secret", headers=headers)).status_code == 403
    assert (await client.put("/api/v1/fleet/alert-rules", json={}, headers=headers)).status_code == 403
    assert (await acme.get("/fleet/webhooks")).json() == []


async def test_a_webhook_of_another_organisation_is_not_found(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    hook = await acme.add_webhook("http://127.0.0.1:9/hook")
    async with app.state.sessions() as session:
        other = await factories.tenant(session, "Other")
        await session.commit()
    headers = {"Authorization": f"Bearer {other.token}"}

    assert (await client.delete(f"/api/v1/fleet/webhooks/{hook}", headers=headers)).status_code == 404
    assert (await acme.send("DELETE", f"/fleet/webhooks/{hook}")).status_code == 204
    assert (await acme.get("/fleet/webhooks")).json() == []
