"""The MQTT ingest worker: one connection, subscriptions, and a reconnect loop with backoff.

After aiomqtt's guidance, reconnection is an explicit loop here. Events arrive through the shared
group (workers scale out behind a clustered broker); status through a plain subscription (every
worker may record it; retained status is not delivered to shared subscriptions).

Pipelining: a message is decoded as it arrives (``prepare_message``), then applied in its agent's
lane (``Lanes``): one agent's batches commit and are acked in arrival order, while batches of other
agents commit beside them and the next batch is decoded while one commits. Batches that queued up
in an agent's lane while its previous run committed are applied together, in one transaction
(``apply_messages``), and acked in order after its commit. At most
``MAX_IN_FLIGHT`` messages are held; beyond that the worker stops reading and the broker holds the
rest. Ack after commit, always: a message whose lane is cancelled (connection lost) is not acked.

FAULT INJECTION: ``MPM_FAULT_EXIT_AFTER_COMMIT=N`` makes the process exit (``os._exit(137)``, as if
killed) right after its Nth committed event batch and BEFORE that batch's Ack is published. Off by
default; only the chaos suite (tests/chaos, scenario 4) sets it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket

import aiomqtt

from cloud.db.session import SessionFactory
from cloud.displays.publisher import DisplayPublisher
from cloud.ingest.handling import Outcome, Prepared, apply_messages, prepare_message
from cloud.ingest.lanes import Lanes
from cloud.ingest.tls import MqttTlsError, client_tls_context, explain_connect_failure
from cloud.settings import MqttEndpoint
from firmware_protocols import sync

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
FAULT_EXIT_AFTER_COMMIT_ENV = "MPM_FAULT_EXIT_AFTER_COMMIT"
# Messages held per worker (decoded, queued or committing). Several agents' batches commit at once;
# on SQLite they queue for its single writer anyway, on PostgreSQL they run side by side.
MAX_IN_FLIGHT = 32
# Queued batches of one agent applied in one transaction (a backlog drains in larger commits).
MAX_GROUP = 16


# Acks and display content are small packets that must leave at once: without TCP_NODELAY, Nagle's
# algorithm and the peer's delayed ACK hold each for up to ~40 ms. The broker's side of each
# connection is the broker's to set: the shipped configuration has ``set_tcp_nodelay true``.
NO_DELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)


def mqtt_client(endpoint: MqttEndpoint, role: str) -> aiomqtt.Client:
    """A client for ``endpoint`` with a unique identifier (clean session: agents resend what is unacked).

    With a client certificate (mutual TLS) the broker we ship forces the client id to the certificate's
    CN, whatever is asked here; the identifier still names the process in broker logs elsewhere.
    Raises ``MqttTlsError`` when the configured TLS files cannot be used.
    """
    identifier = f"mpm-cloud-{role}-{socket.gethostname()}-{os.getpid()}-{random.randrange(1 << 32):08x}"
    return aiomqtt.Client(
        endpoint.host,
        endpoint.port,
        username=endpoint.username,
        password=endpoint.password,
        identifier=identifier,
        tls_context=client_tls_context(endpoint),
        socket_options=NO_DELAY,
    )


class IngestWorker:
    """Consumes events and status from every agent; acks after commit; feeds the display publisher."""

    def __init__(
        self, endpoint: MqttEndpoint, shared_group: str, sessions: SessionFactory, publisher: DisplayPublisher
    ) -> None:
        self._endpoint = endpoint
        self._shared_group = shared_group or None
        self._sessions = sessions
        self._publisher = publisher
        self.subscribed = asyncio.Event()  # set while subscribed (tests and readiness wait on it)
        self._exit_after_commits = int(os.environ.get(FAULT_EXIT_AFTER_COMMIT_ENV) or 0)
        self._commits = 0
        self.acked_batches = 0  # batches this worker committed and acked (tests, metrics)

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with jittered exponential backoff."""
        backoff = BACKOFF_FIRST_S
        while True:
            client: aiomqtt.Client | None = None
            try:
                client = mqtt_client(self._endpoint, "ingest")
                async with client:
                    backoff = BACKOFF_FIRST_S
                    await self._consume(client)
            except MqttTlsError as exc:
                log.error("MQTT TLS set-up failed: %s; retrying in %.1fs", exc, backoff)
            except aiomqtt.MqttError as exc:
                # Before the subscription a failure is often TLS (wrong CA, refused certificate): name it.
                explained = (
                    None
                    if self.subscribed.is_set()
                    else await explain_connect_failure(self._endpoint, str(exc))
                )
                if explained is not None:
                    log.error("%s; retrying in %.1fs", explained, backoff)
                else:
                    log.warning("MQTT connection lost (%s); reconnecting in %.1fs", exc, backoff)
            finally:
                self.subscribed.clear()
                self._publisher.detach()
                _close_socket(client)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _consume(self, client: aiomqtt.Client) -> None:
        await client.subscribe(sync.subscription(sync.Channel.EVENTS, shared_group=self._shared_group), qos=1)
        await client.subscribe(sync.subscription(sync.Channel.STATUS), qos=1)
        self._publisher.attach(client)
        self.subscribed.set()
        log.info("ingest subscribed on %s:%d", self._endpoint.host, self._endpoint.port)
        lanes: Lanes[Prepared] = Lanes.grouped(
            lambda run: self._handle(client, run), limit=MAX_IN_FLIGHT, group=MAX_GROUP
        )
        try:
            async for message in client.messages:
                prepared = prepare_message(message.topic.value, _payload_bytes(message.payload))
                await lanes.submit(prepared.agent_id or "", prepared)
        finally:
            await lanes.aclose()

    async def _handle(self, client: aiomqtt.Client, run: list[Prepared]) -> None:
        try:
            outcomes = await apply_messages(self._sessions, run)
        except Exception:
            # Database trouble (or a bug): nothing was committed, so nothing is acked; the agent resends.
            log.exception("could not store %d message(s) on %s; left unacked", len(run), run[0].topic)
            return
        for prepared, outcome in zip(run, outcomes, strict=True):
            await self._publish(client, prepared, outcome)

    async def _publish(self, client: aiomqtt.Client, prepared: Prepared, outcome: Outcome) -> None:
        if outcome.ack is not None and prepared.agent_id is not None:
            self._maybe_die_before_ack()
            ack_topic = sync.topic(prepared.agent_id, sync.Channel.ACK)
            try:
                await client.publish(ack_topic, sync.encode(outcome.ack), qos=1)
                self.acked_batches += 1
            except aiomqtt.MqttError as exc:
                # Committed but not acked: the agent resends and the duplicate is acked then.
                log.warning("ack to %s not sent (%s); the agent will resend", prepared.agent_id, exc)
        if outcome.changed_org is not None:
            self._publisher.changed(outcome.changed_org)

    def _maybe_die_before_ack(self) -> None:
        """Fault injection (off unless MPM_FAULT_EXIT_AFTER_COMMIT is set): die between commit and ack."""
        self._commits += 1
        if self._exit_after_commits and self._commits >= self._exit_after_commits:
            log.critical("fault injection: exiting after commit %d, before its ack", self._commits)
            os._exit(137)


def _close_socket(client: aiomqtt.Client | None) -> None:
    """Close what a failed connect left open (aiomqtt does not when the CONNACK never comes).

    Through paho's own close, which first unregisters the socket from the event loop: closing the
    bare socket left its callbacks registered, and once the descriptor number was reused by the next
    connection they hit it ("Bad file descriptor") and the reconnect hung.
    """
    if client is not None:
        client._client._sock_close()


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode()
    return b"" if payload is None else str(payload).encode()
