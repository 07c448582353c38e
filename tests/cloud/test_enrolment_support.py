"""Set-up shared by the enrolment tests (no tests here): a CA, an enrolling app, an org with a site."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from pydantic import SecretStr

from cloud.app import create_app
from cloud.db.models import OrgKind, Role, Site
from cloud.domain.orgs import create_org, issue_token
from cloud.pki import CertificateAuthority
from cloud.settings import CloudSettings
from tests.cloud.pki.support import make_csr

PASSPHRASE = "ca passphrase for tests"
AGENT_MQTT_URL = "mqtts://broker.test:8883"


def make_ca(directory: Path) -> CertificateAuthority:
    return CertificateAuthority.create(directory, passphrase=PASSPHRASE.encode())


def enrolling_settings(db_url: str, ca_dir: Path) -> CloudSettings:
    return CloudSettings(
        database_url=db_url,
        mqtt_url=None,
        enrolment_ca_dir=ca_dir,
        enrolment_ca_passphrase=SecretStr(PASSPHRASE),
        agent_mqtt_url=AGENT_MQTT_URL,
    )


def enrolling_app(settings: CloudSettings) -> FastAPI:
    app = create_app(settings)
    # The routes read the settings from app.state (the lead adds this line to create_app).
    app.state.settings = settings
    return app


@dataclasses.dataclass(frozen=True, kw_only=True)
class Org:
    org_id: int
    site_id: int
    admin: dict[str, str]  # Authorization header of an org_admin token


async def org_with_site(app: FastAPI, name: str, role: Role = Role.ORG_ADMIN) -> Org:
    async with app.state.sessions() as session:
        org = await create_org(session, name, OrgKind.ENTERPRISE)
        site = Site(org_id=org.id, name=f"{name} HQ")
        session.add(site)
        token = await issue_token(session, org.id, role)
        await session.commit()
    return Org(org_id=org.id, site_id=site.id, admin={"Authorization": f"Bearer {token}"})


def agent_csr(cn: str = "evil-agent") -> str:
    """A CSR made "on the agent" that asks for a name the cloud must ignore."""
    key = ec.generate_private_key(ec.SECP256R1())
    return make_csr(key, cn=cn, sans=(f"{cn}.example",)).decode()


async def issue(
    client: httpx.AsyncClient, org: Org, site_id: int | None = None, **body: object
) -> httpx.Response:
    path = f"/api/v1/sites/{org.site_id if site_id is None else site_id}/enrolment-tokens"
    return await client.post(path, json=body, headers=org.admin)


async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
            yield client
