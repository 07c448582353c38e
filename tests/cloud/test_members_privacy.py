"""Members: CSV import with a per-row error report, export; sensitive fields encrypted at rest and
their reads audited; consents as versioned records; erasure keeps balances; the audit chain verifies
and detects an edited entry."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, text, update

from cloud.db.models import AuditEntry
from cloud.domain import audit_log
from tests.cloud.test_api import assert_problem, auth, make_tenant

CSV = """display_name,legal_name,pin,card,department
Alice,Alice Liddell,1,C1,Sales
,No Name,2,,
Bob,,1,,
Carol,,3,,Nowhere
张三,,4,,
"""


async def test_csv_import_reports_bad_rows_and_export_round_trips(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    await client.post("/api/v1/departments", json={"name": "Sales"}, headers=h)
    report = await client.post(
        "/api/v1/members/import", content=CSV.encode(), headers=h | {"Content-Type": "text/csv"}
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["created"] == 2
    assert [(e["row"], e["message"].split()[0]) for e in body["errors"]] == [
        (3, "display_name"),
        (4, "PIN"),
        (5, "unknown"),
    ]
    exported = await client.get("/api/v1/members/export", headers=h)
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == "id,display_name,legal_name,pin,card,department,status"
    assert [line.split(",")[1:] for line in lines[1:]] == [
        ["Alice", "Alice Liddell", "1", "C1", "Sales", "active"],
        ["张三", "", "4", "", "", "active"],
    ]


async def test_sensitive_fields_are_encrypted_and_reads_audited(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    member = (await client.post("/api/v1/members", json={"display_name": "Alice"}, headers=h)).json()["id"]
    off = await client.put(
        f"/api/v1/members/{member}/sensitive", json={"id_number": "110101200501011234"}, headers=h
    )
    assert_problem(off, 422, "id_number is off")
    await client.patch("/api/v1/org", json={"sensitive_fields": {"id_number": "insurance"}}, headers=h)
    stored = await client.put(
        f"/api/v1/members/{member}/sensitive",
        json={"phone": "138 0013 8000", "id_number": "110101200501011234"},
        headers=h,
    )
    assert stored.status_code == 204, stored.text
    async with app.state.sessions() as session:
        raw = (await session.execute(text("SELECT phone_enc, id_number_enc, phone_hmac FROM member"))).one()
    assert b"13800138000" not in raw[0]
    assert b"110101" not in raw[1]
    assert raw[2]
    assert "13800138000" not in raw[2]
    read = (await client.get(f"/api/v1/members/{member}/sensitive", headers=h)).json()
    assert (read["phone"], read["id_number"]) == ("+8613800138000", "110101200501011234")
    actions = [e["action"] for e in (await client.get("/api/v1/audit", headers=h)).json()]
    assert actions[:2] == ["member.sensitive.read", "member.sensitive.write"]
    await client.post(
        f"/api/v1/members/{member}/consents",
        json={"kind": "biometric", "granted": True, "notice_version": "1"},
        headers=h,
    )
    export = (await client.get(f"/api/v1/members/{member}/export", headers=h)).json()  # DSR-1
    assert export["profile"]["display_name"] == "Alice"
    assert export["sensitive"]["phone"] == "+8613800138000"
    assert [c["kind"] for c in export["consents"]] == ["biometric"]
    assert set(export) == {
        "profile",
        "sensitive",
        "consents",
        "ledger",
        "ledger_events",
        "appeals",
        "punches",
        "corrections",
        "balances",
        "enrolment",
        "display_appearances",
        "ranking_snapshots",
        "authority_limits",
        "api_tokens",
        "audit",
        "sites",
        "credentials",
        "roster",
        "roster_checks",
        "requests",
        "leave",
        "shifts",
    }  # the data map's sections (tests/cloud/privacy/test_data_map.py checks each is complete)
    latest = (await client.get("/api/v1/audit?limit=1", headers=h)).json()[0]
    assert latest["action"] == "member.subject_export"


async def test_consents_erasure_and_audit_chain(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    alice = (
        await client.post("/api/v1/members", json={"display_name": "Alice", "pin": "7"}, headers=h)
    ).json()["id"]
    for granted in (True, False):
        consent = {"kind": "public_display", "granted": granted, "notice_version": "2026-01"}
        assert (
            await client.post(f"/api/v1/members/{alice}/consents", json=consent, headers=h)
        ).status_code == 201
    history = (await client.get(f"/api/v1/members/{alice}/consents", headers=h)).json()
    assert [c["granted"] for c in history] == [False, True]  # newest first: withdrawn now
    award = {"member_ids": [alice], "point_type": "A", "points": 4, "effective_date": "2026-11-05"}
    await client.post("/api/v1/ledger-events", json=award, headers=h | {"Idempotency-Key": "a"})
    erased = (await client.post(f"/api/v1/members/{alice}/erase", headers=h)).json()
    assert (erased["status"], erased["pin"], erased["legal_name"]) == ("erased", None, None)
    assert "Alice" not in erased["display_name"]
    entries = (await client.get(f"/api/v1/ledger-entries?member_id={alice}", headers=h)).json()
    assert [e["points"] for e in entries] == [4]  # the ledger keeps the pseudonymised row
    verdict = (await client.get("/api/v1/audit/verify", headers=h)).json()
    assert verdict == {"intact": True, "entries": 5, "problems": []}
    async with app.state.sessions() as session:  # tamper: edit one stored entry
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 2)
            .values(fields=func.replace(AuditEntry.fields, "public_display", "biometric"))
        )
        await session.commit()
        problems = await audit_log.verify(session, t.org_id)
    assert [p.seq for p in problems] == [2]
    assert (await client.get("/api/v1/audit/verify", headers=h)).json()["intact"] is False


async def test_cli_audit_verify_detects_tampering(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cloud import cli
    from cloud.db.migrate import upgrade_head
    from cloud.db.models import OrgKind
    from cloud.db.session import create_engine, session_factory
    from cloud.domain.audit_log import SYSTEM, record
    from cloud.domain.orgs import create_org
    from cloud.settings import CloudSettings

    engine = create_engine(db_url)
    await upgrade_head(engine)
    async with session_factory(engine)() as session:
        org = await create_org(session, "Acme", OrgKind.ENTERPRISE)
        for n in range(3):
            await record(session, org.id, SYSTEM, "test.write", f"thing:{n}")
        await session.commit()
    monkeypatch.setenv("MPM_DATABASE_URL", db_url)
    assert await cli._run_once(CloudSettings(), cli._parser().parse_args(["audit", "verify"])) == 0
    assert "intact" in capsys.readouterr().out
    async with session_factory(engine)() as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 2)
            .values(fields=func.replace(AuditEntry.fields, "thing:1", "thing:9"))
        )
        await session.commit()
    await engine.dispose()
    assert await cli._run_once(CloudSettings(), cli._parser().parse_args(["audit", "verify"])) == 1
    assert "#2 edited" in capsys.readouterr().out


async def test_tokens_issue_revoke_and_platform_orgs(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Acme")
    h = auth(t.token)
    issued = await client.post("/api/v1/tokens", json={"role": "viewer", "label": "wall"}, headers=h)
    assert issued.status_code == 201
    viewer = auth(issued.json()["token"])
    assert (await client.get("/api/v1/org", headers=viewer)).status_code == 200
    listed = (await client.get("/api/v1/tokens", headers=h)).json()
    assert all("token" not in row and "token_hash" not in row for row in listed)  # secrets never listed
    assert_problem(
        await client.post("/api/v1/tokens", json={"role": "platform_admin"}, headers=h), 403, "cannot"
    )
    assert (await client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=h)).status_code == 204
    assert_problem(await client.get("/api/v1/org", headers=viewer), 401, "revoked")
    new_org = {"name": "Sunny School", "kind": "school"}
    assert_problem(await client.post("/api/v1/orgs", json=new_org, headers=h), 403, "platform_admin")
    async with app.state.sessions() as session:
        from cloud.db.models import Role
        from cloud.domain.orgs import issue_token

        platform = auth(await issue_token(session, t.org_id, Role.PLATFORM_ADMIN))
        await session.commit()
    created = await client.post("/api/v1/orgs", json=new_org, headers=platform)
    assert created.status_code == 201, created.text
    school = auth(created.json()["org_admin_token"])
    assert (await client.get("/api/v1/org", headers=school)).json()["name"] == "Sunny School"
