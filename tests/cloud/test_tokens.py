"""Bearer tokens expire by default (the first org-admin token included), rotate atomically, and the
migration gives tokens made without an expiry one (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Connection, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cloud import cli
from cloud.app import create_app
from cloud.db.base import utc_now
from cloud.db.migrate import alembic_config, upgrade_head
from cloud.db.models import ApiToken, AuditEntry, Role
from cloud.db.session import create_engine, session_factory
from cloud.domain.orgs import issue_token, token_record
from cloud.security import hash_token
from cloud.settings import CloudSettings
from tests.cloud import factories

DAY = dt.timedelta(days=1)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclasses.dataclass(frozen=True)
class Admin:
    org_id: int
    admin: dict[str, str]


async def admin_of_new_org(app: FastAPI) -> Admin:
    async with app.state.sessions() as session:
        made = await factories.tenant(session)
        await session.commit()
    return Admin(org_id=made.org_id, admin=auth(made.token))


async def _record(app: FastAPI, token: str) -> ApiToken:
    async with app.state.sessions() as session:
        query = select(ApiToken).where(ApiToken.token_hash == hash_token(token))
        return (await session.execute(query)).scalar_one()


def _about(when: dt.datetime, lifetime: dt.timedelta) -> bool:
    return abs(when - (utc_now() + lifetime)) < dt.timedelta(minutes=5)


async def test_the_first_org_admin_token_expires_after_the_default_lifetime(
    db_url: str, app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli._parser().parse_args(["create-org", "Acme"])
    assert await cli._run_once(CloudSettings(database_url=db_url), args) == 0
    record = await _record(app, capsys.readouterr().out.strip())
    assert record.role == Role.ORG_ADMIN.value
    assert _about(record.expires_at, 90 * DAY)


async def test_api_tokens_get_the_configured_lifetime_unless_given_one(db_url: str) -> None:
    app = create_app(CloudSettings(database_url=db_url, mqtt_url=None, token_lifetime_days=7))
    async with app.router.lifespan_context(app):
        tenant = await admin_of_new_org(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
            default = await client.post("/api/v1/tokens", json={"role": "viewer"}, headers=tenant.admin)
            chosen_at = (utc_now() + 2 * DAY).isoformat()
            body = {"role": "viewer", "expires_at": chosen_at}
            chosen = await client.post("/api/v1/tokens", json=body, headers=tenant.admin)
    assert default.status_code == chosen.status_code == 201, default.text + chosen.text
    assert _about(dt.datetime.fromisoformat(default.json()["expires_at"]), 7 * DAY)
    assert _about(dt.datetime.fromisoformat(chosen.json()["expires_at"]), 2 * DAY)


async def test_an_expired_token_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    tenant = await admin_of_new_org(app)
    issued = (await client.post("/api/v1/tokens", json={"role": "viewer"}, headers=tenant.admin)).json()
    # Time passes for this token alone (its row expires; the API processes have not seen it used yet).
    async with app.state.sessions() as session:
        past = utc_now() - dt.timedelta(seconds=1)
        await session.execute(update(ApiToken).where(ApiToken.id == issued["id"]).values(expires_at=past))
        await session.commit()
    assert (await client.get("/api/v1/org", headers=tenant.admin)).status_code == 200  # control
    refused = await client.get("/api/v1/org", headers=auth(issued["token"]))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


async def test_rotation_swaps_the_token_atomically_and_is_audited(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    tenant = await admin_of_new_org(app)
    issued = (
        await client.post("/api/v1/tokens", json={"role": "manager", "label": "tablet"}, headers=tenant.admin)
    ).json()
    rotated = await client.post(f"/api/v1/tokens/{issued['id']}/rotate", headers=tenant.admin)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert (new["role"], new["label"]) == ("manager", "tablet")
    assert new["id"] != issued["id"]
    assert (await client.get("/api/v1/rankings?point_type=A", headers=auth(new["token"]))).status_code == 200
    old_use = await client.get("/api/v1/rankings?point_type=A", headers=auth(issued["token"]))
    assert old_use.status_code == 401
    again = await client.post(f"/api/v1/tokens/{issued['id']}/rotate", headers=tenant.admin)
    assert again.status_code == 409
    async with app.state.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "token.rotate")
        entries = [json.loads(r.fields) for r in (await session.execute(query)).scalars()]
    assert [(e["target"], e["detail"]["successor"]) for e in entries] == [
        (f"api_token:{issued['id']}", new["id"])
    ]


async def test_a_caller_rotates_its_own_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    tenant = await admin_of_new_org(app)
    viewer = (await client.post("/api/v1/tokens", json={"role": "viewer"}, headers=tenant.admin)).json()
    rotated = await client.post("/api/v1/token/rotate", headers=auth(viewer["token"]))
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["role"] == "viewer"
    assert (await client.get("/api/v1/org", headers=auth(viewer["token"]))).status_code == 401
    assert (await client.get("/api/v1/org", headers=auth(rotated.json()["token"]))).status_code == 200


async def test_of_two_concurrent_rotations_exactly_one_wins(app: FastAPI, client: httpx.AsyncClient) -> None:
    tenant = await admin_of_new_org(app)
    issued = (await client.post("/api/v1/tokens", json={"role": "viewer"}, headers=tenant.admin)).json()
    path = f"/api/v1/tokens/{issued['id']}/rotate"
    answers = await asyncio.gather(*(client.post(path, headers=tenant.admin) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409]
    async with app.state.sessions() as session:
        live = select(ApiToken).where(ApiToken.role == "viewer", ApiToken.revoked_at.is_(None))
        assert len((await session.execute(live)).scalars().all()) == 1


async def test_an_org_admin_cannot_rotate_a_stronger_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    tenant = await admin_of_new_org(app)
    async with app.state.sessions() as session:
        await issue_token(session, tenant.org_id, Role.PLATFORM_ADMIN)
        await session.commit()
        platform = (
            await session.execute(select(ApiToken.id).where(ApiToken.role == "platform_admin"))
        ).scalar_one()
    refused = await client.post(f"/api/v1/tokens/{platform}/rotate", headers=tenant.admin)
    assert refused.status_code == 403


def _downgrade_to_0005(connection: Connection) -> None:
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.downgrade(config, "0005")


async def test_the_migration_gives_never_expiring_tokens_an_expiry(db_url: str) -> None:
    engine: AsyncEngine = create_engine(db_url)
    try:
        await upgrade_head(engine)
        async with session_factory(engine)() as session:
            made = await factories.tenant(session, "Old")
            await session.commit()
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade_to_0005)
            await connection.execute(text("UPDATE api_token SET expires_at = NULL"))  # as before 0008
        await upgrade_head(engine)
        async with session_factory(engine)() as session:
            record = await token_record(session, made.token)
    finally:
        await engine.dispose()
    assert record is not None  # the owner is not locked out at the upgrade
    assert _about(record.expires_at, 90 * DAY)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as http:
        yield http
