"""Hung cloud or broker: repeated ack timeouts rebuild the connection; a frozen broker is survived."""

from __future__ import annotations

import random
from pathlib import Path

from edge_agent.link import Backoff
from edge_agent.link.sender import HUNG_AFTER
from tests.edge_agent.link.support import agent_config, fake_cloud, running_link
from tests.edge_agent.outbox.helpers import punch
from tests.support.broker import Broker
from tests.support.polling import async_wait_for


async def test_repeated_ack_timeouts_rebuild_the_connection(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path, ack_timeout_s=0.3)
    async with fake_cloud(broker, acking=False) as cloud, running_link(config) as stack:
        await stack.outbox.accept([punch(1)])

        async def reconnected() -> bool:
            return stack.link.sessions >= 2

        await async_wait_for(reconnected, timeout=20, what="a new session after a hung cloud")
        assert len(cloud.events) >= HUNG_AFTER  # the row went out again on each timeout
        assert (await stack.outbox.stats()).backlog_rows == 1  # and was never deleted


async def test_frozen_broker_is_survived_and_delivery_resumes(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path, ack_timeout_s=1.0)
    async with fake_cloud(broker) as cloud, running_link(config) as stack:
        broker.pause()
        try:
            await stack.outbox.accept([punch(i) for i in range(20)])

            async def link_down() -> bool:
                return not stack.link.connected.is_set()

            await async_wait_for(link_down, timeout=30, what="the link to notice the frozen broker")
        finally:
            broker.resume()

        async def delivered() -> bool:
            return (await stack.outbox.stats()).backlog_rows == 0

        await async_wait_for(delivered, timeout=60, what="delivery after the broker thawed")
        assert stack.link.sessions >= 2
    assert len(cloud.distinct_ids()) == 20


def test_backoff_grows_with_jitter_and_resets() -> None:
    backoff = Backoff(initial=0.5, maximum=8.0, rng=random.Random(7))
    delays = [backoff.next() for _ in range(12)]
    assert all(0.25 <= d <= 8.0 for d in delays)
    assert max(delays[6:]) > 2.0  # grown
    backoff.reset()
    assert backoff.next() <= 0.5
