"""The bench's own eyes on the broker: a raw paho client that timestamps what the system publishes.

It subscribes to an agent's ``down/ack`` (and optionally ``up/events`` and ``status``) and records
each message with ``time.time()`` at arrival (the same clock as the other processes on this
machine), so figures are taken outside the processes under test, from what they publish.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_protocols import sync


class Probe:
    """Acked event ids with their arrival time, the agent's status, and (optionally) the batches seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acks: list[tuple[float, list[str]]] = []  # (arrival, event ids)
        self.batches: list[tuple[float, dict[str, Any]]] = []  # (arrival, decoded JSON batch)
        self.status: dict[str, str] = {}  # agent id → state
        self.acked_ids: set[str] = set()  # a resent batch is acked again: count each id once
        self._changed = threading.Condition(self.lock)

    def on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        agent_id, channel = sync.parse_topic(message.topic)
        body = json.loads(message.payload) if message.payload else {}
        with self._changed:
            if channel is sync.Channel.ACK:
                ids = [str(event_id) for event_id in body.get("event_ids", ())]
                self.acks.append((now, ids))
                self.acked_ids.update(ids)
            elif channel is sync.Channel.EVENTS:
                self.batches.append((now, body))
            elif channel is sync.Channel.STATUS:
                self.status[agent_id] = str(body.get("state", ""))
            self._changed.notify_all()

    def wait(self, done: Callable[[Probe], bool], timeout: float, what: str) -> None:
        """Block until ``done(self)`` holds (re-checked at every message); fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
                self._changed.wait(min(left, 0.5))

    @property
    def acked(self) -> int:
        """Distinct event ids acked so far."""
        return len(self.acked_ids)

    def wait_acked(self, count: int, seconds: float) -> bool:
        """Block until ``count`` event ids are acked (True) or ``seconds`` have passed (False)."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while self.acked < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True


def report_progress(what: str, done: int, total: int, elapsed: float) -> None:
    """One progress line on stderr: acked so far, rate, time left at that rate."""
    speed = done / max(elapsed, 1e-9)
    left = f"~{(total - done) / speed:,.0f}s left" if speed else "waiting for the first ack"
    print(f"   {what}: {done:,}/{total:,} acked, {speed:,.0f}/s, {left}", file=sys.stderr, flush=True)


@contextmanager
def watching(port: int, agent_id: str, *, events: bool = False) -> Iterator[Probe]:
    """A probe subscribed to ``agent_id``'s acks and status (and its event batches with ``events``)."""
    probe = Probe()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{agent_id}")
    client.on_message = probe.on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect("127.0.0.1", port)
    channels = [sync.Channel.ACK, sync.Channel.STATUS] + ([sync.Channel.EVENTS] if events else [])
    client.subscribe([(sync.topic(agent_id, channel), 1) for channel in channels])
    client.loop_start()
    try:
        if not subscribed.wait(timeout=15):
            raise TimeoutError("the bench's MQTT probe could not subscribe")
        yield probe
    finally:
        client.disconnect()
        client.loop_stop()


def publish_all(port: int, topic: str, payloads: list[bytes], client_id: str) -> None:
    """Publish ``payloads`` at QoS 1 (100 in flight) and return once the broker has them all."""
    done = threading.Event()
    count = 0

    def on_publish(*_args: Any) -> None:
        nonlocal count
        count += 1
        if count == len(payloads):
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(100)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for payload in payloads:
            client.publish(topic, payload, qos=1)
        if payloads and not done.wait(timeout=300):
            raise TimeoutError(f"only {count} of {len(payloads)} PUBACKs arrived")
    finally:
        client.disconnect()
        client.loop_stop()


class Publisher:
    """A raw paho client publishing at QoS 1 (100 in flight) for the length of a ``publishing`` block."""

    def __init__(self, client: mqtt.Client) -> None:
        self._client = client

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue ``payload`` (paho's network thread sends it)."""
        self._client.publish(topic, payload, qos=1)


@contextmanager
def publishing(port: int, client_id: str) -> Iterator[Publisher]:
    """A connected publisher, disconnected when the block ends."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield Publisher(client)
    finally:
        client.disconnect()
        client.loop_stop()
