"""A new site's signs show the organisation's default ranking as soon as the agent enrols: an agent
with no display rows gets content for ``sync.DEFAULT_SIGN`` (top-5 of the default point type), and a
configured display replaces it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiomqtt
import httpx
import pytest
from fastapi import FastAPI

from cloud.db.models import Agent, Display, OrgKind, PointType
from cloud.db.session import SessionFactory
from cloud.displays.projection import agent_content
from cloud.domain.orgs import create_org
from cloud.domain.periods import today
from firmware_protocols import sync
from tests.cloud import factories
from tests.cloud.test_enrolment_support import (
    agent_csr,
    enrolling_app,
    enrolling_settings,
    issue,
    make_ca,
    org_with_site,
    running,
)
from tests.support.broker import Broker
from tests.support.polling import async_wait_for


async def content_of(sessions: SessionFactory, agent_pk: int) -> sync.DisplayContent:
    async with sessions() as session:
        content = await agent_content(session, await session.get_one(Agent, agent_pk))
        await session.commit()
    return content


async def agent_with_points(sessions: SessionFactory) -> tuple[int, int]:
    """An organisation with point types B (made first) and A, six members with A points, an agent."""
    async with sessions() as session:
        t = await factories.tenant(session)
        session.add(PointType(org_id=t.org_id, code="B", name="B points"))
        for points in range(1, 7):
            m = await factories.member(session, t.org_id, f"M{points}")
            await factories.award(session, t, m.id, points, today("Asia/Shanghai"), f"k{points}")
        agent = Agent(agent_id="site-9-aaaaaa", org_id=t.org_id)
        session.add(agent)
        await session.commit()
        return agent.id, t.point_type_id


async def test_an_agent_without_displays_gets_the_default_ranking(sessions: SessionFactory) -> None:
    agent_pk, _ = await agent_with_points(sessions)
    [sign] = (await content_of(sessions, agent_pk)).signs
    assert sign.sign == sync.DEFAULT_SIGN
    assert sign.title == "A points"  # A is preferred over B, although B was made first here
    assert [(r.rank, r.name, r.points) for r in sign.rows] == [
        (1, "M6", 6),
        (2, "M5", 5),
        (3, "M4", 4),
        (4, "M3", 3),
        (5, "M2", 2),
    ]


async def test_control_a_configured_display_replaces_the_default(sessions: SessionFactory) -> None:
    agent_pk, point_type_id = await agent_with_points(sessions)
    async with sessions() as session:
        agent = await session.get_one(Agent, agent_pk)
        session.add(
            Display(org_id=agent.org_id, agent_pk=agent_pk, sign="lobby", point_type_id=point_type_id)
        )
        await session.commit()
    assert [s.sign for s in (await content_of(sessions, agent_pk)).signs] == ["lobby"]


async def test_an_organisation_without_point_types_sends_no_default(sessions: SessionFactory) -> None:
    async with sessions() as session:
        org = await create_org(session, "Empty", OrgKind.ENTERPRISE)
        agent = Agent(agent_id="site-8-aaaaaa", org_id=org.id)
        session.add(agent)
        await session.commit()
        agent_pk = agent.id
    assert (await content_of(sessions, agent_pk)).signs == ()


@pytest.fixture
async def enrolling_with_mqtt(
    db_url: str, tmp_path: Path, broker: Broker
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    make_ca(tmp_path / "ca")
    settings = enrolling_settings(db_url, tmp_path / "ca").model_copy(
        update={"mqtt_url": broker.url, "display_debounce_s": 0.0}
    )
    app = enrolling_app(settings)
    async for client in running(app):
        yield app, client


async def test_the_default_is_retained_for_the_agent_as_soon_as_it_enrols(
    enrolling_with_mqtt: tuple[FastAPI, httpx.AsyncClient], broker: Broker
) -> None:
    app, client = enrolling_with_mqtt
    acme = await org_with_site(app, "Acme")
    async with app.state.sessions() as session:
        session.add(PointType(org_id=acme.org_id, code="A", name="A 分"))
        await session.commit()
    await async_wait_for(_attached(app), timeout=15, what="the publisher's broker connection")
    token = (await issue(client, acme)).json()["token"]
    enrolled = await client.post("/api/v1/enrol", json={"token": token, "csr": agent_csr()})
    assert enrolled.status_code == 201, enrolled.text
    agent_id = enrolled.json()["agent_id"]
    # The agent connects later: the broker must hold the content for it (retained).
    content = await asyncio.wait_for(_retained_display(broker, agent_id), timeout=20)
    assert [(s.sign, s.title) for s in content.signs] == [(sync.DEFAULT_SIGN, "A 分")]


def _attached(app: FastAPI) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return bool(app.state.worker.subscribed.is_set())

    return probe


async def _retained_display(broker: Broker, agent_id: str) -> sync.DisplayContent:
    while True:
        async with aiomqtt.Client(broker.host, broker.port, identifier=f"late-{agent_id}") as late:
            await late.subscribe(sync.topic(agent_id, sync.Channel.DISPLAY), qos=1)
            try:
                async with asyncio.timeout(1.0):
                    async for message in late.messages:
                        assert isinstance(message.payload, bytes)
                        return sync.decode_display(message.payload)
            except TimeoutError:
                continue  # not published yet: connect again as a late agent would
