"""Store-and-forward against a real Mosquitto: rows go only on the cloud's Ack, and are resent without one."""

from __future__ import annotations

from pathlib import Path

from edge_agent.outbox import Outbox, running_outbox
from firmware_protocols.sync import MAX_BATCH_EVENTS
from tests.edge_agent.link.support import agent_config, fake_cloud, running_link
from tests.edge_agent.outbox.helpers import punch
from tests.support.broker import Broker
from tests.support.polling import async_wait_for


async def backlog(outbox: Outbox) -> int:
    return (await outbox.stats()).backlog_rows


async def test_rows_are_deleted_only_after_the_cloud_ack(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path, ack_timeout_s=30.0)
    async with fake_cloud(broker, acking=False) as cloud, running_link(config) as stack:
        await stack.outbox.accept([punch(i) for i in range(250)])

        async def all_received() -> bool:
            return len(cloud.distinct_ids()) == 250

        await async_wait_for(all_received, what="250 events at the cloud")
        # The first claim is the configured 100 and comes back full, so the next asks for 200.
        assert [len(b.events) for b in cloud.batches] == [100, 150]
        assert await backlog(stack.outbox) == 250  # PUBACKed, but not acked: kept

        for batch in list(cloud.batches):  # control: the cloud's Ack removes them
            await cloud.ack(batch)

        async def drained() -> bool:
            return await backlog(stack.outbox) == 0

        await async_wait_for(drained, what="outbox drained by acks")
    assert sorted(e.seq for e in cloud.events) == list(range(1, 251))


async def test_batches_grow_with_the_backlog_and_shrink_after_it(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path)
    async with running_outbox(config.outbox.path) as outbox:  # a backlog made while offline
        await outbox.accept([punch(i) for i in range(5000)])
    async with fake_cloud(broker) as cloud, running_link(config) as stack:

        async def drained() -> bool:
            return await backlog(stack.outbox) == 0

        await async_wait_for(drained, what="backlog delivered")
        sizes = [len(b.events) for b in cloud.batches]
        assert sizes[0] == 100
        assert max(sizes) == MAX_BATCH_EVENTS  # grew under the backlog, never past the contract
        assert len(cloud.distinct_ids()) == 5000
        await stack.outbox.accept([punch(9000)])  # control: a lone event after the backlog

        async def lone_delivered() -> bool:
            return len(cloud.distinct_ids()) == 5001

        await async_wait_for(lone_delivered, what="the lone event")
        assert len(cloud.batches[-1].events) == 1


async def test_unacked_batch_is_resent_after_the_ack_timeout(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path, ack_timeout_s=0.5)
    async with fake_cloud(broker, acking=False) as cloud, running_link(config) as stack:
        await stack.outbox.accept([punch(i) for i in range(10)])

        async def resent() -> bool:
            return len(cloud.events) >= 20

        await async_wait_for(resent, what="the same rows sent again")
        assert len(cloud.distinct_ids()) == 10  # the same events again, not new ones
        assert await backlog(stack.outbox) == 10
        assert stack.link.sender.ack_timeouts >= 1


async def test_control_acked_batch_is_not_resent(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path, ack_timeout_s=0.5)
    async with fake_cloud(broker, acking=True) as cloud, running_link(config) as stack:
        await stack.outbox.accept([punch(i) for i in range(10)])

        async def drained() -> bool:
            return await backlog(stack.outbox) == 0

        await async_wait_for(drained, what="outbox drained")
        await stack.outbox.accept([punch(100)])  # a later event proves the link kept running

        async def later_delivered() -> bool:
            return len(cloud.distinct_ids()) == 11 and await backlog(stack.outbox) == 0

        await async_wait_for(later_delivered, what="the later event")
        assert len(cloud.events) == 11
        assert stack.link.sender.ack_timeouts == 0


async def test_backlog_made_offline_is_delivered_on_connect(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path)
    async with running_outbox(config.outbox.path) as outbox:  # no link: the broker is "away"
        await outbox.accept([punch(i) for i in range(30)])
    async with fake_cloud(broker) as cloud, running_link(config) as stack:

        async def drained() -> bool:
            return await backlog(stack.outbox) == 0

        await async_wait_for(drained, what="offline backlog delivered")
    assert len(cloud.distinct_ids()) == 30


async def test_online_status_is_published_retained(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path)
    async with fake_cloud(broker) as cloud, running_link(config) as stack:
        await stack.outbox.accept([punch(1)])

        async def online() -> bool:
            return any(s.state == "online" for s in cloud.statuses)

        await async_wait_for(online, what="online status")
    status = next(s for s in cloud.statuses if s.state == "online")
    assert status.agent_version
    assert status.at is not None
