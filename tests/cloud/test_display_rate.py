"""The display publisher's interval limits the rate; it never delays the first change (time to display).

With an interval of an hour, the first change after a quiet spell must still reach the broker at
once; the burst that follows within the interval stays pending, coalesced into the next publication.
Under the old rule (a trailing delay of the interval) the first publication would take an hour.
"""

from __future__ import annotations

import asyncio

import aiomqtt

from cloud.db.session import SessionFactory
from cloud.displays.publisher import DisplayPublisher
from cloud.domain.demo import seed_demo
from firmware_protocols import sync
from tests.support.broker import Broker
from tests.support.polling import async_wait_for, holds

AN_HOUR_S = 3600.0


async def test_the_first_change_is_published_at_once_and_a_burst_is_coalesced(
    sessions: SessionFactory, broker: Broker
) -> None:
    async with sessions() as session:
        seed = await seed_demo(session, "rate-agent", "lobby")
        await session.commit()
    publisher = DisplayPublisher(sessions, debounce_s=AN_HOUR_S)
    topic = sync.topic("rate-agent", sync.Channel.DISPLAY)
    async with (
        aiomqtt.Client(broker.host, broker.port, identifier="rate-cloud") as cloud,
        aiomqtt.Client(broker.host, broker.port, identifier="rate-agent") as agent,
    ):
        await agent.subscribe(topic, qos=1)
        running = asyncio.create_task(publisher.run())
        try:
            publisher.changed(seed.org_id)
            publisher.attach(cloud)
            async with asyncio.timeout(20):  # only bounds a failure
                message = await anext(aiter(agent.messages))
            # Counted once the broker acknowledged it, which may come after the agent has it.
            await async_wait_for(lambda: holds(publisher.published == 1), what="the publication counted")
            assert [sign.sign for sign in sync.decode_display(bytes(message.payload)).signs] == ["lobby"]
            for _ in range(1000):
                publisher.changed(seed.org_id)
            assert publisher.pending_orgs == {seed.org_id}  # held for the next publication, not sent
        finally:
            running.cancel()
