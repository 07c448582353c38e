"""An enrolled agent's certificate expiry is recorded at enrolment and shown in the fleet view
(SQLite and PostgreSQL, the real CA and enrolment route)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from fastapi import FastAPI

from tests.cloud.test_enrolment_support import (
    agent_csr,
    enrolling_app,
    enrolling_settings,
    issue,
    make_ca,
    org_with_site,
    running,
)


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> FastAPI:
    make_ca(tmp_path / "ca")
    return enrolling_app(enrolling_settings(db_url, tmp_path / "ca"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for http in running(app):
        yield http


async def test_the_fleet_view_shows_when_the_enrolment_certificate_expires(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await org_with_site(app, "Acme")
    token = (await issue(client, acme)).json()["token"]
    enrolled = (await client.post("/api/v1/enrol", json={"token": token, "csr": agent_csr()})).json()
    not_after = x509.load_pem_x509_certificate(enrolled["certificate"].encode()).not_valid_after_utc

    (agent,) = (await client.get("/api/v1/fleet", headers=acme.admin)).json()["agents"]

    assert agent["agent_id"] == enrolled["agent_id"]
    assert dt.datetime.fromisoformat(agent["cert_expires_at"]) == not_after
