"""The roster (issue 11): site links → commands per agent, receipts per device, consent and BIO-3 gates,
withdrawal keeps the card, erasure stays open until every device is verified. Both database backends.

Receipts are stored as the ingest stores them (``agent_event`` rows of kind ``cmd_result``); the whole
path through a real agent and simulators is tests/e2e/test_roster.py.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cloud.db.base import utc_now
from cloud.db.models import Agent, AgentEvent, PrivacyRequest
from cloud.roster import plan
from cloud.roster.upkeep import upkeep_once
from tests.cloud.test_api import assert_problem, auth, make_tenant

AGENT = "roster-agent"
TERMINALS = {"front": "verified", "adms:SN1": "queued", "face": "verified"}


class Api:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.headers = client, auth(token)

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.request(method, f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def commands(self) -> list[dict[str, Any]]:
        return list(reversed(await self.call("GET", f"/agents/{AGENT}/commands?limit=500")))


async def receipt(app: FastAPI, cmd_id: str, devices: dict[str, str], device: str = "@agent") -> None:
    """Store a cmd_result the way ingest does: the agent's per-device report, or a terminal's own."""
    async with app.state.sessions() as session:
        agent_pk = (await session.execute(_agent_pk())).scalar_one()
        ok = all(not s.startswith("failed") for s in devices.values())
        detail = json.dumps({"devices": devices}) if device == "@agent" else "DATA return=0"
        session.add(
            AgentEvent(
                org_id=1,
                agent_pk=agent_pk,
                event_id=str(uuid.uuid4()),
                seq=1,
                kind="cmd_result",
                device=device,
                occurred_at=utc_now(),
                data={"cmd_id": cmd_id, "ok": ok, "detail": detail},
            )
        )
        await session.commit()


def _agent_pk() -> Any:
    return select(Agent.id).where(Agent.agent_id == AGENT)


async def setup_site(app: FastAPI, client: httpx.AsyncClient) -> tuple[Api, dict[str, int]]:
    t = await make_tenant(app, "Roster Co")
    api = Api(client, t.token)
    site = (await api.call("POST", "/sites", {"name": "Plant"}, 201))["id"]
    await api.call("POST", "/agents", {"agent_id": AGENT, "site_id": site}, 201)
    floor = (await api.call("POST", "/departments", {"name": "Floor"}, 201))["id"]
    office = (await api.call("POST", "/departments", {"name": "Office"}, 201))["id"]
    ann = {"display_name": "Ann", "pin": "1001", "card": "4321", "department_id": floor}
    ids = {"site": site, "floor": floor, "office": office}
    ids["ann"] = (await api.call("POST", "/members", ann, 201))["id"]
    assert await api.commands() == []  # no site holds Floor yet
    return api, ids


def consent(granted: bool, actor: str = "self") -> dict[str, Any]:
    return {"kind": "biometric", "granted": granted, "notice_version": "2026-01", "actor": actor}


async def test_a_site_link_enrols_the_department_and_receipts_land_per_device(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api, ids = await setup_site(app, client)
    links = await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"department_ids": [ids["floor"]]})
    assert links["commands_queued"] == 1
    [upsert] = await api.commands()
    assert (upsert["type"], upsert["args"]) == ("user_upsert", {"pin": "1001", "name": "Ann", "card": 4321})
    roster = await api.call("GET", f"/roster/members/{ids['ann']}")
    assert roster["credentials"] == ["card", "pin"]
    [target] = roster["agents"]
    assert target["intended"]["credentials"] == ["card", "pin"]
    assert [(d["device"], d["state"]) for d in target["devices"]] == [("*", "pending")]
    # A repeat changes nothing and queues nothing (idempotent).
    again = await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"department_ids": [ids["floor"]]})
    assert again["commands_queued"] == 0

    await receipt(app, upsert["cmd_id"], TERMINALS)
    states = await _states(api, ids["ann"])
    assert states == {"adms:SN1": "queued", "face": "verified", "front": "verified"}
    await receipt(app, upsert["cmd_id"], {}, device="adms:SN1")  # the ADMS terminal's own result
    assert set((await _states(api, ids["ann"])).values()) == {"verified"}
    on_front = await api.call("GET", f"/roster/devices/{AGENT}/front")
    assert [(e["member_id"], e["verified"]["pin"], e["state"]) for e in on_front] == [
        (ids["ann"], "1001", "verified")
    ]

    # A second member of the department: the agent's terminals are known now, each pending.
    bob = await api.call(
        "POST", "/members", {"display_name": "Bob", "pin": "1002", "department_id": ids["floor"]}, 201
    )
    assert await _states(api, bob["id"]) == dict.fromkeys(TERMINALS, "pending")
    # Moving Bob to a department no site holds deletes him from the terminals.
    await api.call("PATCH", f"/members/{bob['id']}", {"department_id": ids["office"]})
    last = (await api.commands())[-1]
    assert (last["type"], last["args"]) == ("user_delete", {"pin": "1002"})
    await receipt(app, last["cmd_id"], {"front": "verified", "adms:SN1": "failed: busy", "face": "verified"})
    roster = await api.call("GET", f"/roster/members/{bob['id']}")
    [target] = roster["agents"]
    assert target["intended"] is None
    failed = {d["device"]: (d["state"], d["reason"]) for d in target["devices"]}
    assert failed["adms:SN1"] == ("failed", "busy")
    assert failed["front"] == ("verified", "")


async def _states(api: Api, member_id: int) -> dict[str, str]:
    roster = await api.call("GET", f"/roster/members/{member_id}")
    return {d["device"]: d["state"] for t in roster["agents"] for d in t["devices"]}


async def test_biometrics_need_consent_and_a_withdrawal_keeps_the_card(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api, ids = await setup_site(app, client)
    ann = ids["ann"]
    await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"member_ids": [ann]})
    url = f"/roster/members/{ann}/credentials"
    refused = await client.put(f"/api/v1{url}", json={"kinds": ["card", "face"]}, headers=api.headers)
    assert_problem(refused, 409, "no current biometric consent")
    face_only = await client.put(f"/api/v1{url}", json={"kinds": ["face"]}, headers=api.headers)
    assert_problem(face_only, 409, "BIO-3")
    bad = await client.put(f"/api/v1{url}", json={"kinds": ["iris"]}, headers=api.headers)
    assert bad.status_code == 422
    assert "kinds" in bad.text
    assert len(await api.commands()) == 1  # only the first enrolment: the refusals touched no device

    await api.call("POST", f"/members/{ann}/consents", consent(True), 201)
    roster = await api.call("PUT", url, {"kinds": ["card", "face"]})
    assert roster["agents"][0]["intended"]["credentials"] == ["card", "face"]
    assert [c["type"] for c in await api.commands()] == ["user_upsert", "user_upsert"]

    await api.call("POST", f"/members/{ann}/consents", consent(False), 201)
    roster = await api.call("GET", f"/roster/members/{ann}")
    assert roster["agents"][0]["intended"]["credentials"] == ["card"]  # the card stays (BIO-3)
    withdrawn = (await api.commands())[-2:]
    assert [(c["type"], c["args"]) for c in withdrawn] == [
        ("user_delete", {"pin": "1001"}),  # templates go with the user...
        ("user_upsert", {"pin": "1001", "name": "Ann", "card": 4321}),  # ...card and PIN come back
    ]


async def test_a_minor_needs_the_guardian_for_biometrics(app: FastAPI, client: httpx.AsyncClient) -> None:
    api, _ = await setup_site(app, client)
    kid = (await api.call("POST", "/members", {"display_name": "Kid", "pin": "7", "minor": False}, 201))["id"]
    await api.call("POST", f"/members/{kid}/consents", consent(True, "self"), 201)  # not a minor yet
    await api.call("PATCH", f"/members/{kid}", {"minor": True})
    url = f"/api/v1/roster/members/{kid}/credentials"
    refused = await client.put(url, json={"kinds": ["pin", "fingerprint"]}, headers=api.headers)
    assert_problem(refused, 409, "guardian")
    await api.call("POST", f"/members/{kid}/consents", consent(True, "guardian"), 201)
    assert (
        await client.put(url, json={"kinds": ["pin", "fingerprint"]}, headers=api.headers)
    ).status_code == 200


async def test_an_erasure_stays_open_until_every_device_is_verified(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api, ids = await setup_site(app, client)
    ann = ids["ann"]
    await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"department_ids": [ids["floor"]]})
    await receipt(app, (await api.commands())[0]["cmd_id"], {"front": "verified", "face": "verified"})
    erased = await api.call("POST", f"/members/{ann}/erase")
    assert erased["display_name"] == f"erased-{ann}"
    assert erased["pin"] is None
    [request] = await api.call("GET", "/roster/requests")
    assert (request["kind"], request["state"], request["member_id"]) == ("erasure", "open", ann)
    days = (_time(request["due_at"]) - _time(request["created_at"])).days
    assert days == 30
    assert {(d["device"], d["state"]) for d in request["devices"]} == {
        ("front", "pending"),
        ("face", "pending"),
    }
    delete = (await api.commands())[-1]
    assert (delete["type"], delete["args"]) == ("user_delete", {"pin": "1001"})  # the PIN kept to delete it

    await receipt(app, delete["cmd_id"], {"front": "verified", "face": "pending: terminal offline"})
    still = await api.call("GET", f"/roster/requests/{request['id']}")
    assert still["state"] == "open"  # control: one device is not verified yet
    assert (await api.call("POST", "/roster/sync"))["commands_queued"] == 1  # the repair: sent again
    again = (await api.commands())[-1]
    assert (again["type"], again["args"]) == ("user_delete", {"pin": "1001"})
    assert (await api.call("POST", "/roster/sync"))["commands_queued"] == 0  # in flight: not piled up
    await receipt(app, again["cmd_id"], {"front": "verified", "face": "verified"})
    done = await api.call("GET", f"/roster/requests/{request['id']}")
    assert done["state"] == "closed"
    assert done["closed_at"]
    assert {d["state"] for d in done["devices"]} == {"verified"}


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def test_access_requests_share_the_record(app: FastAPI, client: httpx.AsyncClient) -> None:
    api, ids = await setup_site(app, client)
    made = await api.call("POST", "/roster/requests", {"member_id": ids["ann"], "kind": "access"}, 201)
    assert (made["kind"], made["state"], made["devices"]) == ("access", "open", [])
    bad = await client.post(
        "/api/v1/roster/requests", json={"member_id": ids["ann"], "kind": "erasure"}, headers=api.headers
    )
    assert bad.status_code == 422
    assert "kind" in bad.text
    closed = await api.call("POST", f"/roster/requests/{made['id']}/close")
    assert closed["state"] == "closed"
    assert closed["closed_at"]
    again = await client.post(f"/api/v1/roster/requests/{made['id']}/close", headers=api.headers)
    assert_problem(again, 409, "already closed")
    [erasure] = await api.call("POST", "/roster/erasures", {"member_ids": [ids["ann"]]}, 201)
    by_hand = await client.post(f"/api/v1/roster/requests/{erasure['id']}/close", headers=api.headers)
    assert_problem(by_hand, 409, "closes itself")


def test_the_plan_deletes_first_when_the_pin_or_a_biometric_goes() -> None:
    old = {"pin": "1", "name": "A", "card": 0, "credentials": ["face", "pin"]}
    assert plan("1", old, old) == []
    assert plan(None, None, old) == [("user_upsert", "1")]
    assert plan("1", old, None) == [("user_delete", "1")]
    assert plan("1", old, old | {"pin": "2"}) == [("user_delete", "1"), ("user_upsert", "2")]
    assert plan("1", old, old | {"credentials": ["pin"]}) == [("user_delete", "1"), ("user_upsert", "1")]
    assert plan("1", old | {"credentials": ["pin"]}, old) == [("user_upsert", "1")]  # adding one: no delete
    assert plan("1", old, old | {"name": "B"}) == [("user_upsert", "1")]


async def test_a_reconciliation_finds_strangers_and_repairs_missing_people(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api, ids = await setup_site(app, client)
    await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"department_ids": [ids["floor"]]})
    upsert = (await api.commands())[-1]
    await receipt(app, upsert["cmd_id"], {"front": "verified", "face": "verified"})
    assert (await api.call("POST", "/roster/reconcile", status=202))["checks_queued"] == 1
    check = (await api.commands())[-1]
    assert (check["type"], check["args"]) == ("roster_check", {"pins": ["1001"]})
    assert await api.call("GET", "/roster/findings") == []  # no answer yet

    report = {"front": "drift: extra=1001x,9; missing=", "face": "drift: extra=; missing=1001"}
    await receipt(app, check["cmd_id"], report)
    found = await api.call("GET", "/roster/findings")
    assert [(f["device"], f["pin"], f["member_id"]) for f in found] == [
        ("front", "1001x", None),
        ("front", "9", None),
    ]
    roster = await api.call("GET", f"/roster/members/{ids['ann']}")
    devices = {d["device"]: (d["state"], d["reason"]) for d in roster["agents"][0]["devices"]}
    assert devices == {"front": ("verified", ""), "face": ("failed", "missing on the device (roster check)")}
    assert len(await api.commands()) == 2  # a finding deletes nobody
    assert (await api.call("POST", "/roster/sync"))["commands_queued"] == 1  # the missing one, sent again
    assert (await api.commands())[-1]["type"] == "user_upsert"


async def test_the_upkeep_closes_a_verified_erasure_without_anyone_reading(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api, ids = await setup_site(app, client)
    await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"member_ids": [ids["ann"]]})
    await receipt(app, (await api.commands())[0]["cmd_id"], {"front": "verified"})
    [request] = await api.call("POST", "/roster/erasures", {"member_ids": [ids["ann"]]}, 201)
    delete = (await api.commands())[-1]
    assert await upkeep_once(app.state.sessions, None, reconcile=False) == 0  # control: no receipt yet
    await receipt(app, delete["cmd_id"], {"front": "verified"})
    assert await upkeep_once(app.state.sessions, None, reconcile=True) == 1
    async with app.state.sessions() as session:
        closed = await session.get(PrivacyRequest, request["id"])
        assert closed is not None
        assert closed.state == "closed"
    assert (await api.commands())[-1]["type"] == "roster_check"  # the reconciliation pass asked the agent


async def test_a_change_the_online_agent_never_answered_is_sent_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api, ids = await setup_site(app, client)
    await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"member_ids": [ids["ann"]]})
    assert await upkeep_once(app.state.sessions, None, reconcile=False) == 0
    assert len(await api.commands()) == 1  # control: the agent has not reported since
    async with app.state.sessions() as session:
        agent = (await session.execute(select(Agent).where(Agent.agent_id == AGENT))).scalar_one()
        agent.last_status, agent.last_status_at = {"state": "online"}, utc_now() + dt.timedelta(minutes=2)
        await session.commit()
    await upkeep_once(app.state.sessions, None, reconcile=False)
    first, again = await api.commands()
    assert (again["type"], again["args"]) == (first["type"], first["args"])
    assert again["cmd_id"] != first["cmd_id"]


async def test_an_erasure_does_not_wait_for_a_retired_agent(app: FastAPI, client: httpx.AsyncClient) -> None:
    api, ids = await setup_site(app, client)
    await api.call("PUT", f"/roster/sites/{ids['site']}/links", {"member_ids": [ids["ann"]]})
    await receipt(app, (await api.commands())[0]["cmd_id"], {"front": "verified"})
    [request] = await api.call("POST", "/roster/erasures", {"member_ids": [ids["ann"]]}, 201)
    assert request["state"] == "open"  # control: the agent is live, its terminal not verified yet
    await api.call("POST", f"/agents/{AGENT}/retire")
    done = await api.call("GET", f"/roster/requests/{request['id']}")
    assert done["state"] == "closed"
    assert [(d["device"], d["state"]) for d in done["devices"]] == [("front", "retired")]
