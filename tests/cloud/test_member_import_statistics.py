"""A member import leaves the planner statistics of the member table fresh (PostgreSQL).

Without them the planner takes a freshly loaded table for nearly empty and resolves the first
punches' PINs by scanning it. Asserted on ``pg_stat_user_tables.analyze_count``, with the control
that member rows written without the import (one by one through the API) do not analyse; SQLite
keeps no such statistics and its import only has to succeed.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.cloud.test_api import auth, make_tenant
from tests.support.polling import async_wait_for

CSV = "display_name,legal_name,pin,card,department\n" + "".join(f"M{n},,{n},,\n" for n in range(1, 51))


async def _analyses(app: FastAPI) -> int | None:
    async with app.state.sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            return None
        query = text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'member'")
        return int((await session.execute(query)).scalar_one())


async def _wait_counted(app: FastAPI, above: int) -> int:
    """The statistics may reach other sessions a moment later: poll with a deadline."""

    async def counted() -> int | None:
        found = await _analyses(app)
        return found if found is not None and found > above else None

    return await async_wait_for(counted, what="the member table analysed")


async def test_an_import_analyses_the_member_table(app: FastAPI, client: httpx.AsyncClient) -> None:
    t = await make_tenant(app, "Importers")
    h = auth(t.token)
    before = await _analyses(app)
    report = await client.post(
        "/api/v1/members/import", content=CSV.encode(), headers=h | {"Content-Type": "text/csv"}
    )
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 50
    if before is not None:
        assert await _wait_counted(app, before) > before


async def test_control_members_added_one_by_one_are_not_analysed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    t = await make_tenant(app, "One by one")
    h = auth(t.token)
    before = await _analyses(app)
    for n in range(1, 4):
        member = {"display_name": f"M{n}", "pin": str(n)}
        created = await client.post("/api/v1/members", json=member, headers=h)
        assert created.status_code == 201, created.text
    assert await _analyses(app) == before
