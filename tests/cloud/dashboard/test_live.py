"""The dashboard's server-sent events: an award is pushed within a second, heartbeats re-check the pass,
a revoked pass ends the stream, disconnects and the cap release their slots. The stream is driven
directly (httpx's ASGI transport buffers whole responses), with an injected clock for heartbeats."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Message

from cloud.dashboard import access, board, live
from cloud.dashboard.shared_renders import SharedRenders
from tests.cloud.dashboard.support import Org, auth, seeded_org

PROMPT_S = 1.0  # an award must reach an open dashboard within this


class Browser:
    """The request side of one SSE connection: disconnects when told to."""

    def __init__(self, app: FastAPI) -> None:
        self.gone = asyncio.Event()
        self.request = Request({"type": "http", "app": app, "headers": [], "method": "GET"}, self._receive)

    async def _receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def viewer_for(app: FastAPI, org: Org, browser: Browser) -> access.Viewer:
    now = dt.datetime.now(dt.UTC)
    async with app.state.read_sessions() as session:
        text = await access.token_login(session, app.state.master_key, org.token, now)
    assert text is not None
    return await access.viewer_of(browser.request, text, now)


async def next_event(stream: AsyncIterator[bytes], timeout: float = 5.0) -> tuple[str, str]:  # noqa: ASYNC109
    """(event name, data) of the stream's next message."""
    raw = (await asyncio.wait_for(anext(stream), timeout)).decode()
    event = re.search(r"^event: (.*)$", raw, re.M)
    data = "\n".join(line.removeprefix("data: ") for line in raw.splitlines() if line.startswith("data: "))
    return (event.group(1) if event else ""), data


async def opened(
    app: FastAPI,
    org: Org,
    settings: live.LiveSettings,
    clock: FakeClock,
    renders: SharedRenders | None = None,
) -> tuple[Browser, live.StreamLimit, AsyncIterator[bytes]]:
    browser = Browser(app)
    viewer = await viewer_for(app, org, browser)
    limit = live.StreamLimit(settings)
    slot = limit.try_open()
    assert slot is not None
    view = board.View(org_id=org.org_id)
    stream = live.stream(browser.request, viewer, view, settings, slot, renders or SharedRenders(), clock)
    assert await next_event(stream) == ("", "")  # the retry hint
    first = [await next_event(stream) for _ in range(4)]
    assert sorted(name for name, _ in first) == ["events", "ranking", "signs", "sites"]
    return browser, limit, stream


async def test_an_award_through_the_api_is_pushed_within_a_second(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app)
    clock = FakeClock()
    browser, limit, stream = await opened(app, org, live.LiveSettings(poll_s=0.02, refresh_s=1e9), clock)
    body = {"member_id": org.members["Bob"], "point_type": "A", "points": 10, "reason": "helped"}
    headers = auth(org.token) | {"Idempotency-Key": str(uuid.uuid4())}
    awarded = await client.post("/api/v1/ledger-entries", json=body, headers=headers)
    assert awarded.status_code == 201, awarded.text
    started = asyncio.get_running_loop().time()
    pushed = dict([await next_event(stream, PROMPT_S) for _ in range(3)])
    assert asyncio.get_running_loop().time() - started < PROMPT_S
    assert '<td class="name">Bob</td><td class="num points">13</td>' in pushed["ranking"]
    assert "B*b +10" in pushed["events"]  # masked, and the reason "helped" never shown
    assert "helped" not in pushed["events"]
    assert "3 Bob 13" not in pushed["signs"]  # the sign lists rank 1 first
    assert "1 Bob 13" in pushed["signs"]
    assert "sites" not in pushed  # unchanged panels are not re-sent
    browser.gone.set()
    await asyncio.wait_for(anext(stream, None), 5)
    assert limit.open == 0  # a disconnect frees the slot


async def test_heartbeats_recheck_the_pass_and_a_revoked_pass_ends_the_stream(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app)
    clock = FakeClock()
    settings = live.LiveSettings(poll_s=0.01, refresh_s=1e9, heartbeat_s=15)
    _, limit, stream = await opened(app, org, settings, clock)
    clock.now += 15
    assert await next_event(stream) == ("heartbeat", "live")  # control: the pass still holds
    tokens = (await client.get("/api/v1/tokens", headers=auth(org.token))).json()
    revoked = await client.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=auth(org.token))
    assert revoked.status_code == 204, revoked.text
    clock.now += 15
    name, data = await next_event(stream)
    assert (name, "revoked" in data) == ("bye", True)
    assert await asyncio.wait_for(anext(stream, None), 5) is None
    assert limit.open == 0


async def test_streams_are_capped_and_need_a_pass(app: FastAPI, client: httpx.AsyncClient) -> None:
    org = await seeded_org(app)
    anonymous = await client.get("/dashboard/events")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    limit = live.StreamLimit(live.LiveSettings(max_streams=1))
    app.state.dashboard_streams = limit
    held = limit.try_open()
    assert held is not None
    await client.post(
        "/dashboard/login",
        content=f"token={org.token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    refused = await client.get("/dashboard/events")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    held.release()
    held.release()  # twice is once
    assert limit.open == 0
    assert limit.try_open() is not None  # control: a freed slot is handed out again


async def test_streams_of_one_view_share_one_render_per_change(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    org = await seeded_org(app)
    clock, renders = FakeClock(), SharedRenders()
    settings = live.LiveSettings(poll_s=0.02, refresh_s=1e9)
    streams = [(await opened(app, org, settings, clock, renders))[2] for _ in range(3)]
    assert renders.renders == 1  # three screens, one render
    body = {"member_id": org.members["Alice"], "point_type": "A", "points": 1, "reason": "x"}
    headers = auth(org.token) | {"Idempotency-Key": str(uuid.uuid4())}
    assert (await client.post("/api/v1/ledger-entries", json=body, headers=headers)).status_code == 201
    for stream in streams:
        name, _data = await next_event(stream, PROMPT_S)
        assert name in {"ranking", "events", "signs"}
    assert renders.renders == 2  # control: the change was rendered once more, for all three
