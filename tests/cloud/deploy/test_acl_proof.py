"""ACC-2 proven on the broker configuration ``mpm-cloud broker-config`` generates, with a real ingest.

Each case runs twice: on the generated files ("generated": the attempt must fail) and on their open
twin ("open": no ACL, no client-id forcing: the same attempt must succeed), so every check is shown
able to see the hole it guards. Assertions are on delivery and on the database, never on SUBACK.
Barriers, not sleeps: a QoS-1 PUBACK means the broker has routed (or dropped) the message, so a
marker published afterwards arrives after anything the earlier message would have produced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from cloud.app import create_app
from cloud.db.models import Agent, AgentEvent
from cloud.db.session import SessionFactory
from cloud.settings import CloudSettings
from tests.cloud import factories
from tests.cloud.deploy.support import Deployment, deployed_broker, loss_report_batch
from tests.cloud.pki.support import Session, session
from tests.support.polling import async_wait_for, wait_for


@pytest.fixture(params=["generated", "open"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    with deployed_broker(tmp_path, request.param) as running:
        yield running


@asynccontextmanager
async def ingest(deployment: Deployment, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """The cloud app with its ingest worker on the broker as ``mpm-cloud`` (mutual TLS); agents a, b."""
    settings = CloudSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cloud.db'}",
        mqtt_url=f"mqtts://127.0.0.1:{deployment.port}",
        mqtt_ca_file=deployment.cloud.ca,
        mqtt_cert_file=deployment.cloud.cert,
        mqtt_key_file=deployment.cloud.key,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessions: SessionFactory = app.state.sessions
        async with sessions() as db:
            tenant = await factories.tenant(db)
            db.add_all([Agent(agent_id=name, org_id=tenant.org_id) for name in ("agent-a", "agent-b")])
            await db.commit()

        async def subscribed() -> bool:
            return bool(app.state.worker.subscribed.is_set())

        await async_wait_for(subscribed, timeout=15, what="ingest subscribed over mutual TLS")
        yield sessions


async def stored(sessions: SessionFactory, event_id: str) -> bool:
    async with sessions() as db:
        found = await db.execute(select(AgentEvent.id).where(AgentEvent.event_id == event_id))
        return found.first() is not None


async def test_an_agent_cannot_publish_events_as_another(deployment: Deployment, tmp_path: Path) -> None:
    async with ingest(deployment, tmp_path) as sessions:
        with (
            session("a", deployment.agent_a, deployment.port) as a,
            session("b", deployment.agent_b, deployment.port) as b,
            session("watcher", deployment.operator, deployment.port) as watcher,
        ):
            watcher.subscribe("mpm/v1/+/up/events")
            forged_id, forged = loss_report_batch()
            own_id, own = loss_report_batch()
            a.publish("mpm/v1/agent-b/up/events", forged)
            b.publish("mpm/v1/agent-b/up/events", own)

            async def own_stored() -> bool:
                return await stored(sessions, own_id)

            await async_wait_for(own_stored, timeout=15, what="B's own batch stored")  # control
            assert (forged in watcher.wait_for_payload(own)) == deployment.open
            assert await stored(sessions, forged_id) == deployment.open


def test_an_agent_cannot_read_another_agents_down_topics(deployment: Deployment) -> None:
    with (
        session("a", deployment.agent_a, deployment.port) as a,
        session("b", deployment.agent_b, deployment.port) as b,
        session("cloud", deployment.operator, deployment.port) as cloud,
    ):
        a.subscribe("mpm/v1/agent-b/down/#", "mpm/v1/+/down/#", "mpm/v1/agent-a/down/#")
        b.subscribe("mpm/v1/agent-b/down/#")
        cloud.publish("mpm/v1/agent-b/down/cmd", b"for b only")
        cloud.publish("mpm/v1/agent-a/down/cmd", b"marker a")

        assert b"for b only" in b.wait_for_payload(b"for b only")  # control: B gets its own
        assert (b"for b only" in a.wait_for_payload(b"marker a")) == deployment.open


def test_an_agent_cannot_write_its_own_down_topics(deployment: Deployment) -> None:
    with (
        session("a", deployment.agent_a, deployment.port) as a,
        session("cloud", deployment.operator, deployment.port) as cloud,
    ):
        a.subscribe("mpm/v1/agent-a/down/#")
        for channel in ("cmd", "ack", "display"):
            a.publish(f"mpm/v1/agent-a/down/{channel}", b"forged by a")
        cloud.publish("mpm/v1/agent-a/down/cmd", b"marker from the cloud")

        received = a.wait_for_payload(b"marker from the cloud")
        assert (b"forged by a" in received) == deployment.open


def test_an_agent_cannot_take_over_another_agents_session(deployment: Deployment) -> None:
    with (
        session("agent-b", deployment.agent_b, deployment.port) as b,  # agents use their id as client id
        session("cloud", deployment.operator, deployment.port) as cloud,
    ):
        b.subscribe("mpm/v1/agent-b/down/#")
        intruder = Session("agent-b", deployment.agent_a)  # A's certificate, B's client id
        # On the open twin the two would take the session from each other in a loop; one kick is the
        # evidence, so neither reconnects within the test.
        for client in (b, intruder):
            client.client.reconnect_delay_set(min_delay=60, max_delay=60)
        try:
            assert intruder.open(deployment.port)
            cloud.publish("mpm/v1/agent-b/down/cmd", b"after the intruder connected")
            wait_for(
                lambda: b.ended.is_set() or b"after the intruder connected" in b.payloads(),
                what="B kicked or the message delivered to B",
            )
            assert b.ended.is_set() == deployment.open
            assert (b"after the intruder connected" in b.payloads()) != deployment.open
            assert not intruder.ended.is_set()
        finally:
            intruder.close()
