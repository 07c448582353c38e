"""Device inventories through the API (SQLite and PostgreSQL): versions, refusals naming the field,
roles, the agent's answer read back, and a delivered-but-lost version sent again on the test clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from cloud.db.models import AgentCommand, Role
from cloud.domain.orgs import issue_token
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.fleet.support import Site, online, site
from tests.cloud.test_commands import result_event

SIGN: dict[str, Any] = {"kind": "alpha_sign", "name": "lobby", "port": "/dev/ttyUSB0", "columns": 20}


async def answer(acme: Site, cmd_id: str, ok: bool, detail: str) -> None:
    topic = sync.topic(acme.agent_id, sync.Channel.EVENTS)
    await handle_message(acme.app.state.sessions, topic, events.batch(result_event(cmd_id, ok, detail)))


async def commands_of(acme: Site) -> list[AgentCommand]:
    async with acme.app.state.sessions() as session:
        return list(await session.scalars(select(AgentCommand).order_by(AgentCommand.id)))


async def test_versions_are_queued_and_the_agents_answer_read_back(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    assert (await acme.get("/agents/site-1/inventory")).status_code == 404  # none yet

    first = await acme.send("PUT", "/agents/site-1/inventory", {"devices": [SIGN]})
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["status"], first.json()["applied_version"]) == (
        1,
        "queued",
        None,
    )
    (command,) = await commands_of(acme)
    assert (command.type, command.args) == ("apply_inventory", {"version": 1, "devices": [SIGN]})

    await answer(acme, command.cmd_id, True, "applied inventory version 1; started: lobby")
    applied = (await acme.get("/agents/site-1/inventory")).json()
    assert (applied["status"], applied["applied_version"]) == ("applied", 1)

    await acme.send("PUT", "/agents/site-1/inventory", {"devices": [SIGN | {"columns": 2}]})
    second = (await commands_of(acme))[-1]
    await answer(acme, second.cmd_id, False, "refused; still running inventory version 1: devices.0.columns")
    refused = (await acme.get("/agents/site-1/inventory")).json()
    assert (refused["version"], refused["status"], refused["applied_version"]) == (2, "refused", 1)
    assert "columns" in refused["detail"]


async def test_a_bad_inventory_is_refused_by_the_cloud_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    for body, field in [
        ({"devices": [{"kind": "toaster", "name": "t"}]}, "kind"),
        ({"devices": [SIGN | {"name": "Lobby Sign"}]}, "name"),
        ({"devices": [SIGN, SIGN]}, "used twice"),
        ({"devices": [SIGN] * 65}, "devices"),
        ({"devices": [SIGN], "version": 9}, "version"),
        ({"devices": [SIGN | {"note": "x" * 70_000}]}, "too large"),
    ]:
        answer = await acme.send("PUT", "/agents/site-1/inventory", body)
        assert answer.status_code == 422, body
        assert field in answer.text
    assert await commands_of(acme) == []  # nothing was sent
    assert (await acme.send("PUT", "/agents/nobody/inventory", {"devices": []})).status_code == 404


async def test_only_an_org_admin_replaces_an_inventory(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme = await site(app, client)
    async with app.state.sessions() as session:
        viewer = await issue_token(session, acme.tenant.org_id, Role.VIEWER)
        await session.commit()
    headers = {"Authorization": f"Bearer {viewer}"}
    refused = await client.put("/api/v1/agents/site-1/inventory", json={"devices": []}, headers=headers)
    assert refused.status_code == 403
    await acme.send("PUT", "/agents/site-1/inventory", {"devices": []})
    assert (await client.get("/api/v1/agents/site-1/inventory", headers=headers)).status_code == 200


async def test_a_delivered_version_left_unanswered_by_an_online_agent_is_sent_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    await acme.send("PUT", "/agents/site-1/inventory", {"devices": [SIGN]})
    delivered_at = acme.clock() - dt.timedelta(minutes=10)
    async with app.state.sessions() as session:  # as the publisher does; then the broker lost it
        await session.execute(update(AgentCommand).values(delivered_at=delivered_at))
        await session.commit()
    await acme.report(online())

    acme.clock.set(delivered_at + dt.timedelta(minutes=4, seconds=59))
    await app.state.fleet_alerts.run_round()
    assert len(await commands_of(acme)) == 1  # control: not before five minutes
    acme.clock.set(delivered_at + dt.timedelta(minutes=5))
    await app.state.fleet_alerts.run_round()

    first, again = await commands_of(acme)
    assert (again.type, again.args, again.delivered_at) == (first.type, first.args, None)
    assert (await acme.get("/agents/site-1/inventory")).json()["status"] == "queued"
    await answer(acme, again.cmd_id, True, "applied inventory version 1; started: lobby")
    await app.state.fleet_alerts.run_round()
    assert len(await commands_of(acme)) == 2  # answered: never again
    assert (await acme.get("/agents/site-1/inventory")).json()["applied_version"] == 1
