"""Minors (PRIVACY.md MIN-1): guardian consent, biometric self-grants refused, public display filtered."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cloud.db.base import utc_now
from cloud.db.models import Member
from cloud.domain import ranking
from cloud.domain.members import is_minor
from tests.cloud.test_api import assert_problem, auth, make_tenant

YEAR = utc_now().year


def test_is_minor_counts_the_doubtful_year_as_minor() -> None:
    assert is_minor(Member(minor=True, birth_year=None), 14, YEAR)
    assert is_minor(Member(minor=False, birth_year=YEAR - 14), 14, YEAR)  # 13 or 14: may be under 14
    assert not is_minor(Member(minor=False, birth_year=YEAR - 15), 14, YEAR)  # 14 at least
    assert is_minor(Member(minor=False, birth_year=YEAR - 15), 16, YEAR)  # the org's age counts
    assert not is_minor(Member(minor=False, birth_year=None), 18, YEAR)  # nothing known: not a minor


async def _public_names(app: FastAPI, org_id: int, point_type_id: int, public_only: bool) -> list[str]:
    scope = ranking.Scope(
        org_id=org_id,
        point_type_id=point_type_id,
        period_kind="all",
        period_key="all",
        public_only=public_only,
    )
    async with app.state.sessions() as session:
        return sorted(r.display_name for r in await ranking.ranked(session, scope, limit=50))


async def test_minors_need_the_guardian(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "School")
    h = auth(t.token)
    settings = {"minors_age": 16, "sensitive_fields": {"birth_date": "age checks for minors"}}
    assert (await client.patch("/api/v1/org", json=settings, headers=h)).status_code == 200
    people: dict[str, dict[str, object]] = {
        "Adult": {"birth_year": YEAR - 30},
        "Kid": {"minor": True},
        "Teen": {},  # the birth date (encrypted) comes later
    }
    ids = {}
    for name, extra in people.items():
        created = await client.post("/api/v1/members", json={"display_name": name, **extra}, headers=h)
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    assert created.json()["minor"] is False

    def consent(kind: str, actor: str, granted: bool = True) -> dict[str, object]:
        return {"kind": kind, "granted": granted, "notice_version": "2026-01", "actor": actor}

    url = "/api/v1/members/{}/consents"
    # The Teen's self-given public-display consent predates knowing the birth date.
    for name, actor in [("Adult", "self"), ("Kid", "guardian"), ("Teen", "self")]:
        given = await client.post(url.format(ids[name]), json=consent("public_display", actor), headers=h)
        assert given.status_code == 201, given.text
    birth = {"birth_date": f"{YEAR - 15}-06-01"}
    assert (
        await client.put(f"/api/v1/members/{ids['Teen']}/sensitive", json=birth, headers=h)
    ).status_code == 204
    assert (await client.get(f"/api/v1/members/{ids['Teen']}", headers=h)).json()["birth_year"] == YEAR - 15

    # Biometric: a minor's own grant is refused; the guardian's is recorded; withdrawing is always allowed.
    for name in ("Kid", "Teen"):
        refused = await client.post(url.format(ids[name]), json=consent("biometric", "self"), headers=h)
        assert_problem(refused, 409, "guardian")
    adult = await client.post(url.format(ids["Adult"]), json=consent("biometric", "self"), headers=h)
    assert adult.status_code == 201  # control: an adult's own grant is fine
    guardian = await client.post(url.format(ids["Kid"]), json=consent("biometric", "guardian"), headers=h)
    assert guardian.status_code == 201
    withdrawal = consent("biometric", "self", granted=False)
    assert (await client.post(url.format(ids["Kid"]), json=withdrawal, headers=h)).status_code == 201

    for member_id in ids.values():
        award = {"member_ids": [member_id], "point_type": "A", "points": 3, "effective_date": "2026-11-05"}
        key = {"Idempotency-Key": f"award-{member_id}"}
        assert (await client.post("/api/v1/ledger-events", json=award, headers=h | key)).status_code == 201
    everyone = ["Adult", "Kid", "Teen"]
    assert await _public_names(app, t.org_id, t.point_type_id, public_only=False) == everyone
    # Public: the Teen (a minor under the org's age 16) has only their own consent → left out.
    assert await _public_names(app, t.org_id, t.point_type_id, public_only=True) == ["Adult", "Kid"]
    assert (await client.patch("/api/v1/org", json={"minors_age": 14}, headers=h)).status_code == 200
    assert await _public_names(app, t.org_id, t.point_type_id, public_only=True) == everyone
    # Flagging a member a minor takes their self-given consent off public displays.
    patched = await client.patch(f"/api/v1/members/{ids['Adult']}", json={"minor": True}, headers=h)
    assert patched.json()["minor"] is True
    assert await _public_names(app, t.org_id, t.point_type_id, public_only=True) == ["Kid", "Teen"]


async def test_minors_age_is_bounded(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "School")
    h = auth(t.token)
    assert (await client.patch("/api/v1/org", json={"minors_age": 19}, headers=h)).status_code == 422
    assert (await client.patch("/api/v1/org", json={"minors_age": 18}, headers=h)).status_code == 200
