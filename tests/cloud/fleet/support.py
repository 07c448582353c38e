"""Shared pieces of the fleet tests: an injectable clock, a tenant with an agent, status messages."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
from fastapi import FastAPI

from cloud.db.base import utc_now
from cloud.ingest.handling import handle_message
from firmware_protocols import sync
from tests.cloud import factories


class Clock:
    """Time that moves only when told (starts at the real now)."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, at: dt.datetime) -> None:
        self.now = at

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclasses.dataclass
class Site:
    app: FastAPI
    client: httpx.AsyncClient
    token: str
    clock: Clock
    tenant: factories.Tenant
    agent_id: str = "site-1"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(f"/api/v1{path}", headers=self.auth)

    async def send(self, method: str, path: str, body: object = None) -> httpx.Response:
        return await self.client.request(method, f"/api/v1{path}", json=body, headers=self.auth)

    async def report(self, status: sync.AgentStatus) -> None:
        """The agent's status arriving through ingest, as from the broker."""
        topic = sync.topic(self.agent_id, sync.Channel.STATUS)
        await handle_message(self.app.state.sessions, topic, sync.encode(status))

    async def last_seen(self) -> dt.datetime:
        agent = (await self.get("/fleet")).json()["agents"][0]
        return dt.datetime.fromisoformat(agent["last_seen"])

    async def add_webhook(self, url: str) -> int:
        answer = await self.send("POST", "/fleet/webhooks", {"url": url})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    async def secret(self) -> str:
        answer = await self.send("POST", "/fleet/webhook-secret")
        assert answer.status_code == 200, answer.text
        return str(answer.json()["secret"])

    async def alerts(self, state: str = "open") -> list[dict[str, object]]:
        answer = await self.get(f"/fleet/alerts?state={state}")
        assert answer.status_code == 200, answer.text
        return list(answer.json())


async def site(app: FastAPI, client: httpx.AsyncClient, agent_id: str = "site-1") -> Site:
    """An organisation with one registered agent; the app's alert service runs on a test clock."""
    async with app.state.sessions() as session:
        tenant = await factories.tenant(session)
        await session.commit()
    clock = Clock()
    app.state.fleet_alerts.clock = clock
    result = Site(app=app, client=client, token=tenant.token, clock=clock, tenant=tenant, agent_id=agent_id)
    answer = await result.send("POST", "/agents", {"agent_id": agent_id})
    assert answer.status_code == 201, answer.text
    return result


def online(**fields: object) -> sync.AgentStatus:
    values: dict[str, object] = {"state": "online", "agent_version": "1.2.3", "at": utc_now()}
    return sync.AgentStatus(**(values | fields))  # type: ignore[arg-type]


OFFLINE = sync.AgentStatus(state="offline")
