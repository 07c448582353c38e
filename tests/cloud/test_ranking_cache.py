"""Cached rankings are never stale: every change that a ranking shows is visible at the next GET, in
this app and in a second app on the same database (another process, as far as caches go)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from cloud.api.ranking_cache import RankingCache, RankingKey
from cloud.app import create_app
from cloud.db.models import Balance
from cloud.domain import ranking_version
from cloud.settings import CloudSettings
from tests.cloud.test_api import auth, make_tenant
from tests.cloud.test_workflow import event, manager_token, members, ranking


@pytest.fixture
async def other_client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second app instance on the same database: its own engine, caches and stamp reader."""
    other = create_app(CloudSettings(database_url=db_url, mqtt_url=None))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as http:
            yield http


async def test_award_approval_and_revocation_show_at_the_next_get(
    app: FastAPI, client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    boss, alice, bob = await members(client, admin, "Boss", "Alice", "Bob")
    assert await ranking(client, admin) == await ranking(other_client, admin) == []  # both cached now
    await event(client, admin, "a", [alice], 5)
    assert await ranking(client, admin) == [(1, "Alice", 5)]
    assert await ranking(other_client, admin) == [(1, "Alice", 5)]
    manager = auth(await manager_token(app, t.org_id, boss))
    pending = (await event(client, manager, "p", [bob], 7)).json()
    assert pending["status"] == "pending"
    assert await ranking(client, admin) == [(1, "Alice", 5)]  # pending moves nothing
    approve = f"/api/v1/ledger-events/{pending['id']}/approve"
    assert (await client.post(approve, json={}, headers=admin)).status_code == 200
    assert await ranking(client, admin) == [(1, "Bob", 7), (2, "Alice", 5)]
    assert await ranking(other_client, admin) == [(1, "Bob", 7), (2, "Alice", 5)]
    entries = (await client.get(f"/api/v1/ledger-entries?member_id={bob}", headers=admin)).json()
    revoke = f"/api/v1/ledger-entries/{entries[0]['id']}/revoke"
    assert (await other_client.post(revoke, json={"reason": "x"}, headers=admin)).status_code == 201
    assert await ranking(client, admin) == [(1, "Alice", 5), (2, "Bob", 0)]  # revoked in the other app
    assert await ranking(other_client, admin) == [(1, "Alice", 5), (2, "Bob", 0)]


async def test_names_erasure_and_departments_show_at_the_next_get(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    alice, bob = await members(client, admin, "Alice", "Bob")
    await event(client, admin, "a", [alice, bob], 5)
    assert await ranking(client, admin) == [(1, "Alice", 5), (1, "Bob", 5)]
    patch = await client.patch(f"/api/v1/members/{alice}", json={"display_name": "Zoe"}, headers=admin)
    assert patch.status_code == 200
    assert await ranking(client, admin) == [(1, "Bob", 5), (1, "Zoe", 5)]
    assert (await client.post(f"/api/v1/members/{bob}/erase", headers=admin)).status_code == 200
    assert await ranking(client, admin) == [(1, "Zoe", 5)]
    north = (await client.post("/api/v1/departments", json={"name": "North"}, headers=admin)).json()["id"]
    in_north = f"&department_id={north}"
    assert await ranking(client, admin, in_north) == []
    moved = {"department_id": north}
    assert (await client.patch(f"/api/v1/members/{alice}", json=moved, headers=admin)).status_code == 200
    assert await ranking(client, admin, in_north) == [(1, "Zoe", 5)]


async def test_the_cache_answers_until_the_version_moves(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Control: a balance changed without a bump stays unseen (the cache is really in use), and the
    bump alone makes it seen — so the tests above would catch a missing bump."""
    t = await make_tenant(app, "Acme")
    admin = auth(t.token)
    (alice,) = await members(client, admin, "Alice")
    await event(client, admin, "a", [alice], 5)
    assert await ranking(client, admin) == [(1, "Alice", 5)]
    async with app.state.sessions() as session:
        await session.execute(update(Balance).where(Balance.member_id == alice).values(points=50))
        await session.commit()
    assert await ranking(client, admin) == [(1, "Alice", 5)]  # served from the cache
    async with app.state.sessions() as session:
        await ranking_version.bump(session, t.org_id)
        await session.commit()
    assert await ranking(client, admin) == [(1, "Alice", 50)]


def _key(org_id: int = 1, offset: int = 0) -> RankingKey:
    return RankingKey(
        org_id=org_id,
        role="viewer",
        point_type="A",
        period="month",
        key="2026-11",
        department_id=None,
        order="top",
        limit=10,
        offset=offset,
    )


def test_a_body_is_served_only_at_its_version() -> None:
    cache = RankingCache()
    cache.put(_key(), 3, b"v3")
    assert (cache.get(_key(), 3), cache.get(_key(), 4), cache.get(_key(org_id=2), 3)) == (b"v3", None, None)
    cache.put(_key(), 2, b"v2")  # a slower request computed before the bump
    assert cache.get(_key(), 3) == b"v3"
    cache.put(_key(), 4, b"v4")
    assert (cache.get(_key(), 4), cache.get(_key(), 3)) == (b"v4", None)


def test_the_cache_is_bounded_in_entries_and_bytes() -> None:
    by_count = RankingCache(max_entries=3, max_bytes=1000)
    for offset in range(5):
        by_count.put(_key(offset=offset), 1, b"x")
    assert [by_count.get(_key(offset=o), 1) for o in range(5)] == [None, None, b"x", b"x", b"x"]
    by_size = RankingCache(max_entries=100, max_bytes=10)
    for offset in range(3):
        by_size.put(_key(offset=offset), 1, b"12345")
    by_size.put(_key(offset=9), 1, b"x" * 11)  # larger than the whole cache: not kept
    assert [by_size.get(_key(offset=o), 1) for o in (0, 1, 2, 9)] == [None, b"12345", b"12345", None]
