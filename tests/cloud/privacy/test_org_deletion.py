"""DEL-3 / ENC-2: an organisation leaves. Afterwards no table holds its personal data (the walker
checks every column of every table; the control shows it finds planted data), its agents are
retired, its data key is gone, and its audit chain still verifies with the report as last entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cloud.app import create_app
from cloud.db.models import Agent, AgentEvent, AttendancePunch, AuditEntry, Member, OrgDataKey, Quarantine
from cloud.db.session import SessionFactory
from cloud.domain import audit_log, keys, org_deletion
from cloud.privacy import FieldCryptoError, MasterKey, unwrap_org_key
from cloud.settings import CloudSettings
from tests.cloud import factories
from tests.cloud.privacy.table_walk import rows_of, walk
from tests.cloud.test_api import assert_problem, auth, make_tenant

LEAVING = b"ZQXLEAVING"
STAYING = b"ZQXSTAYING"
NOW = dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.UTC)


async def plant(
    app: FastAPI, client: httpx.AsyncClient, org_name: str, marker: str, agent_id: str
) -> tuple[int, str]:
    """An organisation with the marker in every kind of personal data the cloud holds; its id."""
    t = await make_tenant(app, org_name)
    h = auth(t.token)

    async def post(path: str, body: object, status: int = 201) -> dict[str, object]:
        response = await client.post(f"/api/v1{path}", json=body, headers=h)
        assert response.status_code == status, response.text
        result: dict[str, object] = response.json()
        return result

    site = await post("/sites", {"name": f"{marker} site"})
    department = await post("/departments", {"name": f"{marker} dept"})
    member = await post(
        "/members",
        {
            "display_name": f"{marker}-Alice",
            "legal_name": f"{marker} Alice Liddell",
            "pin": "4711",
            "card": f"{marker}-C1",
            "department_id": department["id"],
        },
    )
    member_id = member["id"]
    sensitive = {"phone": "138 0013 8000", "guardian_contact": f"{marker} guardian 139 0013 9000"}
    assert (await client.put(f"/api/v1/members/{member_id}/sensitive", json=sensitive, headers=h)).is_success
    await post(
        f"/members/{member_id}/consents", {"kind": "biometric", "granted": True, "notice_version": "v1"}
    )
    award = {
        "member_ids": [member_id],
        "point_type": "A",
        "points": 3,
        "reason": f"{marker} helped",
        "effective_date": "2026-10-15",
    }
    response = await client.post("/api/v1/ledger-events", json=award, headers=h | {"Idempotency-Key": "k1"})
    assert response.status_code == 201, response.text
    entries = (await client.get(f"/api/v1/ledger-entries?member_id={member_id}", headers=h)).json()
    await post(f"/ledger-entries/{entries[0]['id']}/appeals", {"reason": f"{marker} was sick"})
    correction = {"member_id": member_id, "day": "2026-11-04", "reason": f"{marker} forgot the badge"}
    await post("/attendance/corrections", correction)
    await post("/agents", {"agent_id": agent_id, "site_id": site["id"]})
    display = {"agent_id": agent_id, "sign": "lobby", "point_type": "A", "title": f"{marker} board"}
    await post("/displays", display)
    upsert = {"type": "user_upsert", "args": {"pin": "4711", "name": f"{marker}-Alice"}}
    await post(f"/agents/{agent_id}/commands", upsert)
    await post("/ranking-snapshots", {"point_type": "A", "period": "month", "key": "2026-10"})
    async with app.state.sessions() as session:
        agent = (await session.scalars(select(Agent).where(Agent.agent_id == agent_id))).one()
        agent.last_status = {"note": f"{marker} status"}
        common = {"org_id": t.org_id, "agent_pk": agent.id, "seq": 1, "device": "t1", "occurred_at": NOW}
        session.add(AgentEvent(**common, event_id=f"e-{agent_id}", kind="cmd_result", data={"n": marker}))
        session.add(
            AttendancePunch(
                **common,
                event_id=f"p-{agent_id}",
                pin="4711",
                member_id=member_id,
                device_time=f"{marker}",
                received_at=NOW,
                verify_mode="card",
                state="in",
                dedup_key=f"{marker}-dedup",
            )
        )
        payload = f"{marker} bad payload".encode()
        topic = f"mpm/v1/{agent_id}/up/events"
        session.add(
            Quarantine(topic=topic, payload_prefix=payload, payload_size=9, payload_sha256="0", error="x")
        )
        await session.commit()
    return t.org_id, t.token


async def test_a_deregistered_org_leaves_no_personal_data(app: FastAPI, client: httpx.AsyncClient) -> None:
    leaving, token = await plant(app, client, "Leaving Ltd", LEAVING.decode(), "box-leaving")
    staying, _ = await plant(app, client, "Staying Ltd", STAYING.decode(), "box-staying")
    h = auth(token)
    async with app.state.sessions() as session:
        before = await walk(session, [LEAVING])
        backup_key = (await session.get_one(OrgDataKey, leaving)).wrapped
        phone_blob = (await session.scalars(select(Member.phone_enc).where(Member.org_id == leaving))).one()
    # Control: the walker finds the planted data everywhere it was put, free text and blobs included.
    assert {f.table for f in before} >= {
        "site",
        "department",
        "member",
        "ledger_entry",
        "ledger_event",
        "appeal",
        "attendance_correction",
        "display",
        "agent_command",
        "agent_event",
        "attendance_punch",
        "quarantine",
        "agent",
        "audit_entry",
        "ranking_snapshot",
    }

    wrong = await client.request("DELETE", "/api/v1/org", json={"confirm_name": "leaving ltd"}, headers=h)
    assert_problem(wrong, 422, "confirm_name")
    assert_problem(await client.request("DELETE", "/api/v1/org", json={}, headers=h), 422, "confirm_name")
    async with app.state.sessions() as session:
        assert await walk(session, [LEAVING]) == before  # a refused request changed nothing

    response = await client.request("DELETE", "/api/v1/org", json={"confirm_name": "Leaving Ltd"}, headers=h)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["deleted"]["member"] == 1
    assert report["deleted"]["ledger_entry"] >= 1
    assert report["deleted"]["quarantine"] == 1
    assert report["deleted"]["org_data_key"] == 1
    assert report["data_key_shredded"] is True
    assert report["agents_retired"] == ["box-leaving"]
    assert set(report["anonymised"]) == {"organisation", "agent", "audit_entry", "audit_head"}
    assert report["device_erasure_requests"] == 0  # the member was on no device: nothing to erase there

    async with app.state.sessions() as session:
        after = await walk(session, [LEAVING, b"Leaving Ltd"])
        assert after == set(), after
        assert set(await rows_of(session, leaving)) == {"agent", "audit_entry", "audit_head"}
        agent = (await session.scalars(select(Agent).where(Agent.agent_id == "box-leaving"))).one()
        assert agent.retired_at is not None
        assert agent.last_status is None
        assert await audit_log.verify(session, leaving) == []  # re-chained, still intact
        last = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.org_id == leaving).order_by(AuditEntry.seq.desc())
            )
        ).first()
        assert last is not None
        assert last.action == "org.deregister"
        # Crypto-shredding: a copied ciphertext no longer decrypts under whatever key the org has now.
        cipher = await keys.field_cipher(session, app.state.master_key, leaving)
        with pytest.raises(FieldCryptoError):
            cipher.decrypt("phone", phone_blob)
        await session.rollback()
        # The staying organisation is untouched (and the walker still sees its data).
        assert {f.org_id for f in await walk(session, [STAYING]) if f.org_id is not None} == {staying}
        assert await audit_log.verify(session, staying) == []
    # A backup taken before still holds the wrapped data key: the master key of the time opens it,
    # so the report says to rotate the master key away (test_key_rotation.py); any other key cannot.
    assert unwrap_org_key(app.state.master_key, str(leaving), backup_key)
    with pytest.raises(FieldCryptoError, match="another master key"):
        unwrap_org_key(MasterKey.generate(), str(leaving), backup_key)
    assert "keys rotate" in report["backups"]

    assert (await client.get("/api/v1/org", headers=h)).status_code == 401  # its tokens are gone


@pytest.fixture
async def app_with_broken_ca(db_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The cloud with an agent CA directory configured that holds no CA: revocation cannot work."""
    settings = CloudSettings(database_url=db_url, mqtt_url=None, enrolment_ca_dir=tmp_path / "no-ca")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_nothing_is_deleted_when_an_agent_cannot_be_revoked(app_with_broken_ca: FastAPI) -> None:
    app = app_with_broken_ca
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
        org_id, token = await plant(app, client, "Leaving Ltd", LEAVING.decode(), "box-leaving")
        async with app.state.sessions() as session:
            before = await walk(session, [LEAVING])
        confirm = {"confirm_name": "Leaving Ltd"}
        refused = await client.request("DELETE", "/api/v1/org", json=confirm, headers=auth(token))
        assert_problem(refused, 503, "nothing was deleted")
        async with app.state.sessions() as session:
            assert await walk(session, [LEAVING]) == before
            assert await audit_log.verify(session, org_id) == []
        assert (await client.get("/api/v1/org", headers=auth(token))).status_code == 200


async def test_an_organisation_leaves_once(sessions: SessionFactory) -> None:
    async with sessions() as session:
        t = await factories.tenant(session, "Once")
        await session.commit()
    report = None
    for attempt in range(2):
        async with sessions() as session:
            if attempt == 0:
                report = await org_deletion.deregister(
                    session, t.org_id, audit_log.SYSTEM, revoke=lambda a: []
                )
                await session.commit()
            else:
                with pytest.raises(org_deletion.AlreadyDeregistered):
                    await org_deletion.deregister(session, t.org_id, audit_log.SYSTEM, revoke=lambda a: [])
    assert report is not None
    assert report.deleted["api_token"] == 1
    assert report.data_key_shredded is False  # it never had sensitive fields, so never a key
