"""The dashboard's pages over HTTP on both databases: login, what the page shows, display links, PNGs."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cloud.dashboard import passes
from cloud.db.models import Agent, Display
from led_faces import AMBER, led_png_bytes, lines_bitmap
from tests.cloud.dashboard.support import auth, log_in, seeded_org

PROBLEM = "application/problem+json"


def rows_of(html: str) -> list[tuple[str, str, str]]:
    """(rank, name, points) of every ranking row in ``html``."""
    pattern = r'<td class="rank">(\d+)</td><td class="name">([^<]*)</td><td class="num points">(-?\d+)</td>'
    return re.findall(pattern, html)


async def test_root_and_dashboard_lead_to_the_login_without_a_pass(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    assert (root.status_code, root.headers["location"]) == (307, "/dashboard")
    page = await client.get("/dashboard")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/dashboard/login?reason=please")
    form = await client.get(page.headers["location"])
    assert form.status_code == 200
    assert 'name="token"' in form.text
    assert "please log in" in form.text


async def test_a_token_login_shows_ranking_events_signs_and_sites(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app)
    login = await log_in(client, org.token)
    assert (login.status_code, login.headers["location"]) == (303, "/dashboard")
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Path=/dashboard" in cookie
    assert "SameSite=lax" in cookie
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert rows_of(page.text) == [("1", "Alice", "5"), ("2", "张小三", "4"), ("3", "Bob", "3")]
    # Latest events are the signs' projection: masked names, never a free-text reason (DISP-1).
    events = re.findall(r'<li class="event">([^<]*)</li>', page.text)
    assert sorted(events) == ["A***e +5", "B*b +3", "张*三 +4"]
    assert "Alice Legal" not in page.text
    # The agent's default sign, with the lines the sign is given now.
    lines = re.findall(r"<li>([^<]*)</li>", page.text.split('class="sign-lines"')[1].split("</ol>")[0])
    assert lines[1:] == ["1 Alice 5", "2 张小三 4", "3 Bob 3"]
    assert 'data-agent="site-1"' in page.text
    assert "Main office" in page.text
    assert ">online<" in page.text
    assert ">7<" in page.text
    assert "12 s" in page.text
    assert "agent offline" not in page.text
    assert "/dashboard/static/htmx.min.js" in page.text
    assert 'sse-connect="/dashboard/events?' in page.text


async def test_a_bad_token_or_filter_is_refused_clearly(app: FastAPI, client: httpx.AsyncClient) -> None:
    org = await seeded_org(app)
    bad = await log_in(client, "not-a-token")
    assert bad.status_code == 303
    assert "unknown%2C+expired+or+revoked" in bad.headers["location"]
    assert "set-cookie" not in bad.headers
    await log_in(client, org.token)  # control: the real token opens it
    wrong = await client.get("/dashboard", params={"period": "fortnight"})
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == PROBLEM
    assert "period" in wrong.text
    assert (await client.get("/dashboard", params={"department": "0"})).status_code == 422
    assert (await client.get("/dashboard", params={"point_type": "A"})).status_code == 200


async def test_filters_switch_period_point_type_and_department(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app)
    await log_in(client, org.token)
    year = await client.get("/dashboard", params={"period": "year", "screen": "big"})
    assert '<body class="big">' in year.text
    assert rows_of(year.text)[0] == ("1", "Alice", "5")
    missing = await client.get("/dashboard", params={"point_type": "Z"})
    assert "no such point type" in missing.text
    assert rows_of(missing.text) == []


async def test_display_links_are_signed_public_revocable_and_audited(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app, consenting=("Bob",))
    issued = await client.post("/api/v1/display-links", json={"label": "lobby wall"}, headers=auth(org.token))
    assert issued.status_code == 201, issued.text
    link = issued.json()
    assert link["audience"] == "public"
    assert link["url"].startswith("http://cloud.test/dashboard/link/")
    path = link["url"].removeprefix("http://cloud.test")
    opened = await client.get(path)
    assert (opened.status_code, opened.headers["location"]) == (303, "/dashboard?screen=big")
    wall = await client.get("/dashboard?screen=big")
    assert rows_of(wall.text) == [("1", "Bob", "3")]  # public: only the member who consented
    # The agent's only sign is internal (the default display): a public screen does not show it.
    assert "no signs yet" in wall.text
    assert (await client.get("/dashboard/signs/site-1/default.png")).status_code == 404
    # A pass with its signature changed is refused, naming why.
    forged = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    client.cookies.clear()
    refused = await client.get(forged)
    assert "not+signed" in refused.headers["location"] or "malformed" in refused.headers["location"]
    await client.get(path)
    revoked = await client.post(f"/api/v1/display-links/{link['id']}/revoke", headers=auth(org.token))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    gone = await client.get("/dashboard")
    assert gone.status_code == 303
    assert "revoked" in gone.headers["location"]
    again = await client.post(f"/api/v1/display-links/{link['id']}/revoke", headers=auth(org.token))
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    listed = await client.get("/api/v1/display-links", headers=auth(org.token))
    assert [item["label"] for item in listed.json()] == ["lobby wall"]
    assert "url" not in listed.json()[0]


async def test_display_link_input_is_bounded(app: FastAPI, client: httpx.AsyncClient) -> None:
    org = await seeded_org(app)
    for body, field in [
        ({"ttl_s": 10}, "ttl_s"),
        ({"audience": "everyone"}, "audience"),
        ({"label": "x" * 201}, "label"),
    ]:
        response = await client.post("/api/v1/display-links", json=body, headers=auth(org.token))
        assert response.status_code == 422
        assert field in response.text
    internal = await client.post(
        "/api/v1/display-links", json={"audience": "internal"}, headers=auth(org.token)
    )
    assert internal.status_code == 201  # control
    foreign = await client.post("/api/v1/display-links/999999/revoke", headers=auth(org.token))
    assert foreign.status_code == 404


async def test_expired_passes_are_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    org = await seeded_org(app)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    text = passes.issue(
        app.state.master_key, passes.Pass(org_id=org.org_id, kind="token", subject_id=1, expires_at=past)
    )
    client.cookies.set("mpm_dashboard", text, path="/dashboard")
    response = await client.get("/dashboard")
    assert response.status_code == 303
    assert "expired" in response.headers["location"]


async def test_sign_pictures_are_drawn_by_the_simulators_renderer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app)
    assert (await client.get("/dashboard/signs/site-1/default.png")).status_code == 401
    await log_in(client, org.token)
    page = await client.get("/dashboard")
    src = re.search(r'<img src="(/dashboard/signs/site-1/[^"]+)"', page.text)
    assert src is not None
    picture = await client.get(src.group(1).replace("&amp;", "&"))
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    lines = re.findall(r"<li>([^<]*)</li>", page.text.split('class="sign-lines"')[1].split("</ol>")[0])
    assert picture.content == led_png_bytes(lines_bitmap(lines).rows, colour=AMBER, pitch=4, margin=6)
    assert (await client.get("/dashboard/signs/site-1/nope.png")).status_code == 404
    assert (await client.get("/dashboard/signs/site-2/default.png")).status_code == 404


async def test_login_and_stream_inputs_are_bounded(app: FastAPI, client: httpx.AsyncClient) -> None:
    org = await seeded_org(app)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    huge = await client.post("/dashboard/login", content="token=" + "x" * 5000, headers=form)
    assert huge.status_code == 413
    assert huge.headers["content-type"] == PROBLEM
    garbled = await client.post("/dashboard/login", content=b"token=\xff\xfe", headers=form)
    assert garbled.status_code == 303
    assert "unknown" in garbled.headers["location"]
    await log_in(client, org.token)  # control
    bad = await client.get("/dashboard/events", params={"period": "fortnight"})
    assert bad.status_code == 422
    assert "period" in bad.text
    client.cookies.set("mpm_dashboard", "x" * 500, path="/dashboard")
    long_cookie = await client.get("/dashboard")
    assert long_cookie.status_code == 422


async def test_a_preview_of_an_offline_agents_sign_says_so(app: FastAPI, client: httpx.AsyncClient) -> None:
    org = await seeded_org(app)
    async with app.state.sessions() as session:
        agent = (await session.execute(select(Agent).where(Agent.org_id == org.org_id))).scalar_one()
        agent.last_status = {"state": "offline"}
        await session.commit()
    await log_in(client, org.token)
    page = await client.get("/dashboard")
    assert "agent offline: the sign may still show older content" in page.text
    assert ">offline<" in page.text


async def test_configured_signs_are_previewed_and_a_public_screen_sees_public_ones(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app, consenting=("Alice",))
    async with app.state.sessions() as session:
        agent = (await session.execute(select(Agent).where(Agent.org_id == org.org_id))).scalar_one()
        for sign, audience in [("hall", "public"), ("office", "internal")]:
            session.add(
                Display(
                    org_id=org.org_id,
                    agent_pk=agent.id,
                    sign=sign,
                    point_type_id=org.point_type_id,
                    title="Top",
                    audience=audience,
                )
            )
        await session.commit()
    issued = await client.post("/api/v1/display-links", json={}, headers=auth(org.token))
    await client.get(issued.json()["url"].removeprefix("http://cloud.test"))
    wall = await client.get("/dashboard")
    assert re.findall(r'data-sign="([^"]+)"', wall.text) == ["hall"]
    hall = wall.text.split('data-sign="hall"')[1].split("</ol>")[0]
    assert "1 Alice 5" in hall
    assert "Bob" not in hall  # the public sign lists consenting members only
    client.cookies.clear()
    await log_in(client, org.token)
    inside = await client.get("/dashboard")
    assert re.findall(r'data-sign="([^"]+)"', inside.text) == ["hall", "office"]
