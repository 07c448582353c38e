"""Enrolment leaves its trace in the hash-chained audit log, in the same transaction (AUD-1), and every
bad CSR is a 422 problem naming ``body.csr`` (never a 500), with the token still usable afterwards."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi import FastAPI
from sqlalchemy import select

from cloud.db.models import Agent, AuditEntry, AuditHead, EnrolmentToken
from cloud.domain import audit_log
from cloud.pki import CertificateAuthority
from tests.cloud.pki.support import make_csr
from tests.cloud.test_enrolment_support import (
    Org,
    agent_csr,
    enrolling_app,
    enrolling_settings,
    issue,
    make_ca,
    org_with_site,
    running,
)

PEM_HEAD, PEM_TAIL = "-----BEGIN CERTIFICATE REQUEST-----", "-----END CERTIFICATE REQUEST-----"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> FastAPI:
    make_ca(tmp_path / "ca")
    return enrolling_app(enrolling_settings(db_url, tmp_path / "ca"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for http in running(app):
        yield http


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> Org:
    return await org_with_site(app, "Acme")


def _der(pem: str) -> bytes:
    return base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")))


def _pem(der: bytes) -> str:
    return f"{PEM_HEAD}\n{base64.encodebytes(der).decode()}{PEM_TAIL}\n"


def _flip(der: bytes, index: int) -> bytes:
    damaged = bytearray(der)
    damaged[index] ^= 0xFF
    return bytes(damaged)


def damaged_key() -> str:
    der = _der(agent_csr())
    point = der.find(b"\x03\x42\x00\x04")  # the P-256 public point's BIT STRING
    return _pem(_flip(der, point + 12))


def bad_signature() -> str:
    der = _der(agent_csr())
    return _pem(_flip(der, len(der) - 5))


def sha224_signed() -> str:
    return _signed_with(rsa.generate_private_key(public_exponent=65537, key_size=2048), hashes.SHA224())


def _signed_with(key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    )
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM).decode()


BAD_CSRS: list[tuple[str, Callable[[], str], str]] = [
    ("damaged key", damaged_key, "public key is damaged"),
    ("bad signature", bad_signature, "signature does not verify"),
    ("SHA-224 signature", sha224_signed, "signed with sha224"),
    ("Ed25519 key", lambda: make_csr(ed25519.Ed25519PrivateKey.generate()).decode(), "Ed25519"),
    ("short RSA key", lambda: make_csr(rsa.generate_private_key(65537, 1024)).decode(), "1024 bits"),
    ("unaccepted curve", lambda: make_csr(ec.generate_private_key(ec.SECP256K1())).decode(), "secp256k1"),
    ("garbage PEM", lambda: f"{PEM_HEAD}\nzzzz\n{PEM_TAIL}\n", "not a PEM certificate signing request"),
    ("truncated", lambda: _pem(_der(agent_csr())[:60]), "not a PEM certificate signing request"),
    ("not PEM at all", lambda: "hello", "exactly one PEM block"),
    ("two requests", lambda: agent_csr() + agent_csr(), "exactly one PEM block"),
    ("lone surrogate", lambda: "\ud800", "ASCII|a valid string"),  # pydantic refuses it first
    ("oversized", lambda: agent_csr() + "A" * 20_000, "at most 20000 characters"),
]


@pytest.mark.parametrize(("case", "make", "reason"), BAD_CSRS, ids=[c[0] for c in BAD_CSRS])
async def test_every_bad_csr_is_a_422_naming_the_field(
    client: httpx.AsyncClient, acme: Org, case: str, make: Callable[[], str], reason: str
) -> None:
    token = (await issue(client, acme)).json()["token"]
    raw = json.dumps({"token": token, "csr": make()})  # ASCII JSON: a lone surrogate travels as \ud800
    answer = await client.post("/api/v1/enrol", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["errors"][0]["loc"] == ["body", "csr"]
    assert body["detail"].startswith("body.csr: ")
    assert re.search(reason, body["detail"]), body["detail"]
    ok = await client.post("/api/v1/enrol", json={"token": token, "csr": agent_csr()})  # control
    assert ok.status_code == 201, ok.text


async def test_issuing_and_enrolling_are_in_the_audit_chain(
    app: FastAPI, client: httpx.AsyncClient, acme: Org
) -> None:
    issued = (await issue(client, acme)).json()
    enrolled = await client.post("/api/v1/enrol", json={"token": issued["token"], "csr": agent_csr()})
    assert enrolled.status_code == 201, enrolled.text
    agent_id = enrolled.json()["agent_id"]
    async with app.state.sessions() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars().all()
        assert await audit_log.verify(session, acme.org_id) == []
    entries = [json.loads(r.fields) for r in rows if r.org_id == acme.org_id]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("enrolment_token.issue", f"enrolment_token:{issued['id']}"),
        ("agent.enrol", f"agent:{agent_id}"),
    ]
    assert entries[0]["detail"]["site_id"] == acme.site_id
    assert entries[0]["actor"]["role"] == "org_admin"
    assert entries[1]["detail"] == {
        "site_id": acme.site_id,
        "enrolment_token_id": issued["id"],
        "address": "127.0.0.1",
    }
    assert issued["token"] not in json.dumps(entries)  # the secret itself is never logged


async def test_a_refused_enrolment_leaves_no_audit_entry(
    app: FastAPI, client: httpx.AsyncClient, acme: Org
) -> None:
    token = (await issue(client, acme)).json()["token"]
    assert (await client.post("/api/v1/enrol", json={"token": token, "csr": "junk"})).status_code == 422
    async with app.state.sessions() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert actions == ["enrolment_token.issue"]


async def test_no_agent_without_its_audit_entry(app: FastAPI, client: httpx.AsyncClient, acme: Org) -> None:
    """Fault: the audit append fails (a planted entry takes its sequence number); nothing commits."""
    issued = (await issue(client, acme)).json()
    async with app.state.sessions() as session:
        head = await session.get_one(AuditHead, acme.org_id)
        planted = AuditEntry(
            org_id=acme.org_id, seq=head.seq + 1, action="planted", fields="{}", prev_hash="", hash=""
        )
        session.add(planted)
        await session.commit()
        planted_id = planted.id
    body = {"token": issued["token"], "csr": agent_csr()}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as raw:
        failed = await raw.post("/api/v1/enrol", json=body)
    assert failed.status_code == 500
    async with app.state.sessions() as session:
        assert (await session.execute(select(Agent))).scalars().all() == []
        token_row = await session.get_one(EnrolmentToken, issued["id"])
        assert token_row.used_at is None
        await session.delete(await session.get_one(AuditEntry, planted_id))
        await session.commit()
    control = await client.post("/api/v1/enrol", json=body)  # the same request, the fault removed
    assert control.status_code == 201, control.text


async def test_the_ca_refuses_every_bad_csr_without_a_stray_exception(tmp_path: Path) -> None:
    from cloud.pki import CsrRejected

    ca = CertificateAuthority.create(tmp_path / "ca")
    for _case, make, reason in BAD_CSRS[:-1]:  # the oversized one is the API's limit, not the CA's
        with pytest.raises(CsrRejected, match=reason):
            ca.sign_agent_csr(make(), "site-1-abcdef")
    assert ca.sign_agent_csr(agent_csr(), "site-1-abcdef").startswith("-----BEGIN CERTIFICATE")  # control
