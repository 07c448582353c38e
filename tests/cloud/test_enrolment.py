"""Agent enrolment against the real cloud app (ASGI) on SQLite and PostgreSQL (PRIVACY.md ACC-3)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select, update

from cloud.db.models import EnrolmentToken, Role
from cloud.pki import CertificateAuthority
from edge_agent.enrolment import enroll, enrolment_status
from tests.cloud.test_enrolment_support import (
    AGENT_MQTT_URL,
    Org,
    agent_csr,
    enrolling_app,
    enrolling_settings,
    issue,
    make_ca,
    org_with_site,
    running,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def app(db_url: str, tmp_path: Path, ca: CertificateAuthority) -> FastAPI:
    return enrolling_app(enrolling_settings(db_url, tmp_path / "ca"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for http in running(app):
        yield http


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> Org:
    return await org_with_site(app, "Acme")


def refused(response: httpx.Response, status: int, detail_part: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert detail_part in response.json()["detail"]


async def test_enrol_once_then_the_same_token_is_refused(
    app: FastAPI, client: httpx.AsyncClient, acme: Org, ca: CertificateAuthority
) -> None:
    issued = await issue(client, acme)
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    token = issued.json()["token"]
    assert issued.json()["enrol_uri"] == f"mpm-enrol:http://cloud.test?token={token}"
    body = {"token": token, "csr": agent_csr("evil-agent"), "agent_id": "evil-agent", "name": "evil-agent"}
    first = await client.post("/api/v1/enrol", json=body)
    assert first.status_code == 201, first.text
    answer = first.json()
    agent_id = answer["agent_id"]
    assert re.fullmatch(rf"site-{acme.site_id}-[a-z2-7]{{6}}", agent_id)  # assigned; the request ignored
    assert ca.verify_agent_cert(answer["certificate"]) == agent_id  # chains to the CA, CN = assigned id
    assert answer["ca_certificate"] == ca.certificate_pem
    assert answer["mqtt_url"] == AGENT_MQTT_URL
    assert "evil" not in answer["certificate"] + str(answer)
    again = await client.post("/api/v1/enrol", json={"token": token, "csr": agent_csr()})
    refused(again, 410, "already used")
    async with app.state.sessions() as session:
        row = (await session.execute(select(EnrolmentToken))).scalar_one()
    assert (row.used_by_agent, row.token_sealed, row.site_id) == (agent_id, None, acme.site_id)
    assert row.used_at is not None
    assert token not in (row.token_hash, row.short_code_hash)


async def test_the_short_code_works_as_typed(client: httpx.AsyncClient, acme: Org) -> None:
    short_code = (await issue(client, acme)).json()["short_code"]
    typed = f" {short_code.lower().replace('-', ' ')} "
    response = await client.post("/api/v1/enrol", json={"token": typed, "csr": agent_csr()})
    assert response.status_code == 201, response.text
    refused(await client.post("/api/v1/enrol", json={"token": short_code, "csr": agent_csr()}), 410, "used")


async def test_expired_and_unknown_tokens_are_refused(
    app: FastAPI, client: httpx.AsyncClient, acme: Org
) -> None:
    expired = (await issue(client, acme, valid_minutes=5)).json()
    live = (await issue(client, acme)).json()
    async with app.state.sessions() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.execute(
            update(EnrolmentToken).where(EnrolmentToken.id == expired["id"]).values(expires_at=past)
        )
        await session.commit()
    refused(
        await client.post("/api/v1/enrol", json={"token": expired["token"], "csr": agent_csr()}),
        410,
        "expired",
    )
    unknown = {"token": "x" * 43, "csr": agent_csr()}
    refused(await client.post("/api/v1/enrol", json=unknown), 401, "unknown enrolment token")
    ok = await client.post("/api/v1/enrol", json={"token": live["token"], "csr": agent_csr()})  # control
    assert ok.status_code == 201, ok.text


async def test_a_bad_csr_is_422_and_leaves_the_token_usable(client: httpx.AsyncClient, acme: Org) -> None:
    token = (await issue(client, acme)).json()["token"]
    refused(await client.post("/api/v1/enrol", json={"token": token, "csr": "not a CSR"}), 422, "CSR")
    ok = await client.post("/api/v1/enrol", json={"token": token, "csr": agent_csr()})
    assert ok.status_code == 201, ok.text


async def test_tokens_are_bound_to_their_org_and_site(
    app: FastAPI, client: httpx.AsyncClient, acme: Org
) -> None:
    other = await org_with_site(app, "Other")
    refused(await issue(client, other, site_id=acme.site_id), 404, "not found")  # B cannot issue for A's site
    issued = (await issue(client, acme)).json()
    qr = f"/api/v1/sites/{acme.site_id}/enrolment-tokens/{issued['id']}/qr.png"
    refused(await client.get(qr, headers=other.admin), 404, "not found")
    other_site_qr = f"/api/v1/sites/{other.site_id}/enrolment-tokens/{issued['id']}/qr.png"
    refused(await client.get(other_site_qr, headers=other.admin), 404, "not found")
    assert (await client.get(qr, headers=acme.admin)).status_code == 200  # control
    agent_id = (
        await client.post("/api/v1/enrol", json={"token": issued["token"], "csr": agent_csr()})
    ).json()["agent_id"]
    mine = await client.get(f"/api/v1/agents/{agent_id}", headers=acme.admin)
    assert mine.status_code == 200, mine.text
    assert mine.json()["site_id"] == acme.site_id
    refused(await client.get(f"/api/v1/agents/{agent_id}", headers=other.admin), 404, "not found")


async def test_only_org_admins_issue(app: FastAPI, client: httpx.AsyncClient, acme: Org) -> None:
    manager = await org_with_site(app, "Managed", role=Role.MANAGER)
    refused(await issue(client, manager), 403, "org_admin")
    anonymous = await client.post(f"/api/v1/sites/{acme.site_id}/enrolment-tokens", json={})
    refused(anonymous, 401, "bearer token")


async def test_qr_png_is_a_png_until_the_token_is_used(client: httpx.AsyncClient, acme: Org) -> None:
    issued = (await issue(client, acme)).json()
    qr = f"/api/v1/sites/{acme.site_id}/enrolment-tokens/{issued['id']}/qr.png"
    assert issued["qr_path"] == qr
    response = await client.get(qr, headers=acme.admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(response.content))
    image.verify()
    assert image.format == "PNG"
    assert image.size[0] == image.size[1] > 100
    await client.post("/api/v1/enrol", json={"token": issued["token"], "csr": agent_csr()})
    refused(await client.get(qr, headers=acme.admin), 410, "already used")


async def test_two_concurrent_uses_of_one_token_enrol_one_agent(client: httpx.AsyncClient, acme: Org) -> None:
    token = (await issue(client, acme)).json()["token"]
    body = {"token": token, "csr": agent_csr()}
    responses = await asyncio.gather(*(client.post("/api/v1/enrol", json=body) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [201, 410, 410, 410], [r.text for r in responses]
    agents = (await client.get("/api/v1/agents", headers=acme.admin)).json()
    assert len(agents) == 1


async def test_failed_short_codes_are_limited_per_address(client: httpx.AsyncClient, acme: Org) -> None:
    issued = (await issue(client, acme)).json()
    for _ in range(10):
        refused(
            await client.post("/api/v1/enrol", json={"token": "AAAA-AAAA", "csr": agent_csr()}),
            401,
            "unknown",
        )
    limited = await client.post("/api/v1/enrol", json={"token": issued["short_code"], "csr": agent_csr()})
    refused(limited, 429, "too many")
    assert int(limited.headers["retry-after"]) > 0
    ok = await client.post("/api/v1/enrol", json={"token": issued["token"], "csr": agent_csr()})  # control
    assert ok.status_code == 201, ok.text


async def test_the_agent_library_enrols_and_no_key_or_token_leaks(
    client: httpx.AsyncClient, acme: Org, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = (await issue(client, acme)).json()["token"]
    sent: list[bytes] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request.content)

    client.event_hooks["request"] = [record]
    with caplog.at_level(logging.DEBUG):
        enrolment = await enroll("http://cloud.test", token, tmp_path / "state", http_client=client)
    status = enrolment_status(tmp_path / "state")
    assert status.chain_ok, status.problems
    assert status.agent_id == enrolment.agent_id
    key_pem = enrolment.key_file.read_bytes()
    assert sent
    assert b"CERTIFICATE REQUEST" in sent[0]  # control: the hook sees the body
    assert not [body for body in sent if b"PRIVATE KEY" in body or key_pem in body]
    assert "PRIVATE KEY" not in caplog.text
    assert token not in caplog.text
    assert f"agent {enrolment.agent_id} enrolled" in caplog.text  # control: the enrolment was logged


async def test_enrolment_answers_503_until_configured(db_url: str) -> None:
    from cloud.app import create_app
    from cloud.settings import CloudSettings

    app = create_app(CloudSettings(database_url=db_url, mqtt_url=None))  # no app.state.settings
    async for client in running(app):
        mine, theirs = await org_with_site(app, "Mine"), await org_with_site(app, "Theirs")
        refused(
            await client.post("/api/v1/enrol", json={"token": "x" * 43, "csr": "c"}), 503, "not configured"
        )
        refused(await issue(client, mine), 503, "not configured")
        refused(await issue(client, mine, site_id=theirs.site_id), 404, "not found")  # the tenant check first
