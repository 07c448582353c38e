"""The downlink never ends the agent: a failing handler is counted, a stale persisted display is dropped."""

from __future__ import annotations

import json
from pathlib import Path

from edge_agent.display import LATEST_NAME, DisplayRouter
from edge_agent.outbox import running_outbox
from firmware_protocols.sync import Channel, SignContent, encode
from tests.edge_agent.link.support import RecordingSign, agent_config, fake_cloud, running_link
from tests.edge_agent.link.test_down_channels import command, display
from tests.support.broker import Broker
from tests.support.polling import async_wait_for


class FailingRouter(DisplayRouter):
    """A router whose handling of one title fails after decoding, as a full disk would."""

    async def handle(self, payload: bytes) -> bool:
        if b'"title":"boom"' in payload:
            raise OSError("disk full")
        return await DisplayRouter.handle(self, payload)


async def test_a_failing_handler_is_counted_and_the_next_message_applies(
    broker: Broker, tmp_path: Path
) -> None:
    config = agent_config(broker, tmp_path)
    sign = RecordingSign()
    async with (
        fake_cloud(broker) as cloud,
        running_link(config, {"lobby": sign}, router=FailingRouter) as stack,
    ):
        await cloud.send(Channel.DISPLAY, encode(display(1, "boom")), retain=True)
        await cloud.send(Channel.DISPLAY, encode(display(2, "fine")), retain=True)

        async def shown() -> list[SignContent]:
            return sign.shown

        assert [c.title for c in await async_wait_for(shown, what="the good content")] == ["fine"]
        assert (stack.link.failed_messages, stack.link.bad_payloads) == (1, 0)
        await cloud.send(Channel.COMMAND, command("after-failure"))  # the link is still serving

        async def result() -> bool:
            return any(e.kind == "cmd_result" for e in cloud.events)

        await async_wait_for(result, what="a command result")
        assert stack.link.sessions == 1


async def test_a_persisted_display_that_no_longer_decodes_is_dropped_at_start(tmp_path: Path) -> None:
    stale = json.loads(encode(display(5, "old")))
    stale["generated_at"] = "9999-12-31T23:59:00-14:00"  # accepted by an older, laxer agent
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        await outbox.save_latest(LATEST_NAME, json.dumps(stale).encode())
        router = DisplayRouter(outbox, {"lobby": RecordingSign()})
        await router.replay()  # raised out of the agent's task group at every start before
        assert (router.bad_persisted, router.applied_version) == (1, None)
        assert await router.handle(encode(display(1, "fresh")))  # control: newer content applies
        await router.replay()
        assert (router.bad_persisted, router.applied_version) == (1, 1)  # the fresh one was persisted
