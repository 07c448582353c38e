"""A stand-in cloud for the edge_link benchmark: acks every event batch it receives, nothing more.

``python -m bench.fake_cloud --port P`` subscribes to ``mpm/v1/+/up/events`` (QoS 1) with raw paho
and answers each batch with an ``Ack`` of all its ids on the agent's ``down/ack`` topic. It parses
the batch with ``json.loads`` only (the real cloud's cost is measured by ``cloud_ingest``), so the
edge_link benchmark measures the agent's link, not the cloud. Prints ``ready`` once subscribed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_protocols import sync


def on_message(client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
    agent_id, _channel = sync.parse_topic(message.topic)
    batch = json.loads(message.payload)
    ack = sync.Ack(batch_id=batch["batch_id"], event_ids=tuple(e["id"] for e in batch["events"]))
    client.publish(sync.topic(agent_id, sync.Channel.ACK), sync.encode(ack), qos=1)


def on_subscribe(*_args: Any) -> None:
    print("ready", flush=True)


def main() -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-fake-cloud")
    client.max_inflight_messages_set(100)
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.connect("127.0.0.1", args.port)
    client.subscribe(sync.subscription(sync.Channel.EVENTS), qos=1)
    client.loop_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
