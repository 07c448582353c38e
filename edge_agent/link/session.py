"""The MQTT link: an explicit reconnect loop (aiomqtt style) around one session per connection.

A session subscribes to ``down/ack``, ``down/display`` and ``down/cmd`` (QoS 1), publishes the
retained online status, then runs the batch sender and the receive loop side by side. Any MQTT
error or ``LinkHung`` ends the session; the loop waits a jittered, growing delay and reconnects.
Downlink rule: a message is handled to the end or dropped; nothing it holds ends the session or the
agent. A payload that breaks the contract (``SyncProtocolError``: bad JSON, an unrepresentable value,
a retained display the decoder refuses) is logged and counted in ``bad_payloads``; a handler that
fails on a valid payload (say, the outbox refusing a write) is logged with its traceback and counted
in ``failed_messages``. Both counters are exported on ``/metrics``. The next message is handled as
usual, so good content after a bad retained one still applies.
On a clean shutdown the session publishes the retained offline status itself (a clean DISCONNECT
does not fire the last will).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

import aiomqtt

from edge_agent.config import AgentConfig
from edge_agent.display import DisplayRouter
from edge_agent.link.ack_reader import read_ack
from edge_agent.link.backoff import Backoff
from edge_agent.link.client import OFFLINE, make_client
from edge_agent.link.commands import CommandRunner
from edge_agent.link.sender import BatchSender, LinkHung
from edge_agent.outbox import Outbox
from edge_agent.status import StatusReporter
from firmware_protocols.sync import AgentStatus, Channel, SyncProtocolError, encode, topic

log = logging.getLogger(__name__)

Handler = Callable[[bytes], Awaitable[object]]
SUBSCRIBED = (Channel.ACK, Channel.DISPLAY, Channel.COMMAND)


class Link:
    def __init__(
        self,
        config: AgentConfig,
        outbox: Outbox,
        *,
        display: DisplayRouter,
        commands: CommandRunner,
        status: StatusReporter,
    ) -> None:
        self._config, self._status = config, status
        self._topics = {channel: topic(config.agent_id, channel) for channel in Channel}
        self.sender = BatchSender(
            outbox,
            self._topics[Channel.EVENTS],
            batch_size=config.outbox.batch_size,
            max_in_flight=config.outbox.max_in_flight_batches,
            ack_timeout_s=config.mqtt.ack_timeout_s,
        )
        self._handlers: Mapping[str, Handler] = {
            self._topics[Channel.ACK]: self._on_ack,
            self._topics[Channel.DISPLAY]: display.handle,
            self._topics[Channel.COMMAND]: commands.handle,
        }
        self._client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.bad_payloads = 0
        self.failed_messages = 0
        self.sessions = 0

    async def run(self) -> None:
        """Connect, serve, and reconnect with backoff, for ever."""
        backoff = Backoff()
        while True:
            try:
                async with make_client(self._config.mqtt, self._config.agent_id) as client:
                    backoff.reset()
                    await self._serve(client)
            except* (aiomqtt.MqttError, LinkHung) as group:
                log.warning("MQTT link down: %s", "; ".join(str(e) for e in group.exceptions))
            await asyncio.sleep(backoff.next())

    async def publish_status(self, status: AgentStatus) -> None:
        """Publish the retained status now if connected; otherwise it waits for the next connect."""
        client = self._client
        if client is None:
            return
        with contextlib.suppress(aiomqtt.MqttError):
            await client.publish(self._topics[Channel.STATUS], encode(status), qos=1, retain=True)

    async def _serve(self, client: aiomqtt.Client) -> None:
        await client.subscribe([(self._topics[channel], 1) for channel in SUBSCRIBED])
        self._client = client
        self.sessions += 1
        try:
            await self.publish_status(await self._status.current())
            self.connected.set()
            log.info("MQTT link up (%s)", self._config.mqtt.url)
            async with asyncio.TaskGroup() as group:
                group.create_task(self.sender.run(client), name="link-sender")
                group.create_task(self._receive(client), name="link-receiver")
        except asyncio.CancelledError:
            await self._say_offline(client)
            raise
        finally:
            self._client = None
            self.connected.clear()

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            handler = self._handlers.get(message.topic.value)
            payload = message.payload
            if handler is None or not isinstance(payload, bytes | bytearray):
                self._count_bad(message.topic.value, "unexpected topic or payload type")
                continue
            try:
                await handler(bytes(payload))
            except SyncProtocolError as exc:
                self._count_bad(message.topic.value, str(exc))
            except Exception:
                self.failed_messages += 1
                log.exception("handling a message on %s failed; dropped", message.topic.value)

    async def _on_ack(self, payload: bytes) -> None:
        await self.sender.on_ack(read_ack(payload))

    def _count_bad(self, where: str, why: str) -> None:
        self.bad_payloads += 1
        log.warning("bad payload on %s dropped: %s", where, why)

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(2):
                await client.publish(self._topics[Channel.STATUS], encode(OFFLINE), qos=1, retain=True)
