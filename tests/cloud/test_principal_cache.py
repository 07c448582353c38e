"""Principals are cached for seconds without weakening revocation or expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from cloud.api.principal_cache import PrincipalCache
from cloud.app import create_app
from cloud.db.base import utc_now
from cloud.settings import CloudSettings
from tests.cloud.test_api import auth, make_tenant
from tests.support.polling import async_wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_trusted_for_the_ttl_only() -> None:
    clock = Clock()
    cache = PrincipalCache[str](ttl_s=2.0, clock=clock)
    cache.put("h", "alice", token_id=1, expires_at=None)
    clock.now += 1.9
    assert cache.get("h") == "alice"
    clock.now += 0.2
    assert cache.get("h") is None  # looked up again after the TTL


def test_a_token_expiry_is_checked_on_every_hit() -> None:
    cache = PrincipalCache[str](ttl_s=60.0, clock=Clock())
    cache.put("soon", "a", token_id=1, expires_at=utc_now() + dt.timedelta(hours=1))
    cache.put("gone", "b", token_id=2, expires_at=utc_now() - dt.timedelta(seconds=1))
    assert (cache.get("soon"), cache.get("gone")) == ("a", None)


def test_forget_and_bound() -> None:
    cache = PrincipalCache[str](max_entries=2, clock=Clock())
    cache.put("a", "A", token_id=1, expires_at=None)
    cache.put("b", "B", token_id=2, expires_at=None)
    cache.forget(1)
    assert (cache.get("a"), cache.get("b")) == (None, "B")
    cache.put("c", "C", token_id=3, expires_at=None)
    cache.put("d", "D", token_id=4, expires_at=None)  # full: the oldest look-up goes
    assert [cache.get(h) for h in "bcd"] == [None, "C", "D"]


@pytest.fixture
async def other_app(db_url: str) -> AsyncIterator[FastAPI]:
    """A second app instance on the same database (another API process, as far as caches go)."""
    other = create_app(CloudSettings(database_url=db_url, mqtt_url=None))
    async with other.router.lifespan_context(other):
        yield other


async def test_a_revoked_token_stops_at_once_here_and_within_the_ttl_elsewhere(
    app: FastAPI, client: httpx.AsyncClient, other_app: FastAPI
) -> None:
    t = await make_tenant(app, "Acme")
    victim = (await client.post("/api/v1/tokens", json={"role": "viewer"}, headers=auth(t.token))).json()
    transport = httpx.ASGITransport(app=other_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as other:
        for http in (client, other):  # control: the token works, and both apps have cached it
            assert (await http.get("/api/v1/org", headers=auth(victim["token"]))).status_code == 200
        revoked = await client.delete(f"/api/v1/tokens/{victim['id']}", headers=auth(t.token))
        assert revoked.status_code == 204
        assert (await client.get("/api/v1/org", headers=auth(victim["token"]))).status_code == 401

        async def refused_there() -> bool:
            return (await other.get("/api/v1/org", headers=auth(victim["token"]))).status_code == 401

        await async_wait_for(refused_there, timeout=10.0, what="the other app refusing the token")
