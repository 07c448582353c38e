"""Scenarios 6-8: a full outbox, a replayed batch, and the control that proves the checker sees loss."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.outbox import running_outbox
from edge_agent.records import DeviceRecord
from firmware_protocols import sync
from tests.chaos.conftest import ReportSink, Scale
from tests.chaos.harness import AGENT_ID, DEVICE, Rig, rig
from tests.chaos.parts import can_mount, filesystem_used
from tests.chaos.test_faults import assert_exact
from tests.support.polling import wait_for

MiB = 1024 * 1024
# The outbox's dedup memory (≈150 bytes a punch, kept 30 days) counts against the cap too: a cap
# much smaller than a month of punches leaves no room at all (see docs/CHAOS.md). So the long run
# scales the cap with the punches.
FS_PER_CAP = 3  # the tmpfs is this many times the cap: the cap must keep database + WAL inside it
SEEDED_STATES = 400  # keep-latest rows waiting in the outbox before the punches arrive


async def seed_device_states(outbox: Path, count: int) -> None:
    """Put ``count`` keep-latest (sheddable) device_state rows into the agent's outbox file."""
    now = dt.datetime.now(dt.UTC)
    records = [
        DeviceRecord(kind=sync.EventKind.DEVICE_STATE, device=DEVICE, occurred_at=now, device_time="",
                     data={"state": "up", "n": i})
        for i in range(count)
    ]  # fmt: skip
    async with running_outbox(outbox) as box:
        await box.accept(records)


def test_full_outbox_sheds_only_keep_latest_and_counts_exactly(
    tmp_path: Path, scale: Scale, report: ReportSink
) -> None:
    """6. A 1 MiB outbox (2 MiB long; on a tmpfs 3× that when root): punches are refused (the
    terminal keeps them), keep-latest rows are shed, every shed row is reported (delivered device
    states + reported drops = states seeded), and the cap keeps the real disk from filling."""
    punches, cap = (6_000, 2 * MiB) if scale.long else (3_000, MiB)
    with rig(tmp_path, max_bytes=cap, pull_interval_s=1.0, outbox_fs_bytes=FS_PER_CAP * cap) as r:
        asyncio.run(seed_device_states(r.outbox, SEEDED_STATES))
        r.start_agent()  # the cloud is down: nothing is acked, the outbox fills up
        r.punch_into_log(punches)
        wait_for(lambda: r.log_count("agent", "ALARM outbox full"), timeout=120, what="the outbox-full alarm")
        assert r.agent_alive()
        since = time.monotonic()
        r.start_cloud()
        drain = r.wait_drained(since, timeout=300 if scale.long else 150)

        def accounted() -> tuple[int, int] | None:
            delivered = len(r.agent_events("device_state"))
            dropped = sum(int(str(d["dropped_total"])) for d in r.agent_events("loss_report"))
            return (delivered, dropped) if delivered + dropped == SEEDED_STATES else None

        _delivered, dropped = wait_for(accounted, timeout=60, interval=0.5, what="loss accounting")
        assert dropped > 0  # the cap really forced shedding
        assert int(str(r.outbox_status()["dropped_total"])) == dropped
        assert r.log_count("agent", "stay on the terminal") > 0  # back-pressure really happened
        wait_for(
            lambda: r.cloud_status().get("dropped") == dropped and r.cloud_status().get("state") == "online",
            timeout=30,
            what="the agent's status in the cloud reporting the drops",
        )
        assert r.log_count("agent", "disk is full") == 0
        if can_mount():
            used, total = filesystem_used(r.outbox.parent)
            assert total == FS_PER_CAP * cap
            assert used < total
        name = f"6 outbox cap {cap // MiB} MiB, {dropped} keep-latest shed"
        assert_exact(report(r.check(name, rounds=1, drain_seconds=drain)))


class Recorder:
    """A paho client that records every event batch and every ack on the agent's topics."""

    def __init__(self, rig: Rig) -> None:
        self.batches: list[bytes] = []
        self.acked: set[str] = set()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="chaos-recorder")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", rig.broker.port)
        self.client.subscribe(
            [(sync.topic(AGENT_ID, sync.Channel.EVENTS), 1), (sync.topic(AGENT_ID, sync.Channel.ACK), 1)]
        )
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            if message.topic.endswith("/up/events"):
                self.batches.append(bytes(message.payload))
            else:
                self.acked.add(sync.decode_ack(bytes(message.payload)).batch_id)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_replayed_old_batch_adds_nothing(tmp_path: Path, report: ReportSink) -> None:
    """7. An old batch (same event ids) published again long after it was acked: the cloud adds nothing."""
    with rig(tmp_path) as r:
        recorder = Recorder(r)
        try:
            r.start_cloud()
            r.start_agent()
            r.punch_live(300)
            since = time.monotonic()
            drain = r.wait_drained(since, timeout=120)
            old = recorder.batches[0]
            batch_id = sync.decode_batch(old).batch_id
            wait_for(lambda: batch_id in recorder.acked, timeout=30, what="the original ack")
            before = r.cloud_counts()
            recorder.acked.discard(batch_id)
            replay = recorder.client.publish(sync.topic(AGENT_ID, sync.Channel.EVENTS), old, qos=1)
            replay.wait_for_publish(10)
            wait_for(lambda: batch_id in recorder.acked, timeout=30, what="the ack of the replay")
            assert r.cloud_counts() == before
        finally:
            recorder.close()
        assert_exact(report(r.check("7 replay of an acked batch", rounds=1, drain_seconds=drain)))


def test_control_unsafe_delete_on_puback_loses_events(tmp_path: Path, report: ReportSink) -> None:
    """8. Control: deleting on PUBACK (not on the cloud's Ack) loses what the broker could not deliver
    while the ingest was down; the checker must see it (lost > 0)."""
    with rig(tmp_path) as r:
        r.start_agent(MPM_UNSAFE_DELETE_ON_PUBACK="1")  # no cloud: nobody subscribed yet
        r.punch_live(100)
        wait_for(lambda: r.outbox_rows() == (100, 0), timeout=30, what="the unsafe agent emptying its outbox")
        r.start_cloud()
        since = time.monotonic()
        r.punch_live(20)
        wanted = set(r.ledger.keys[-20:])
        wait_for(lambda: wanted <= r.cloud_counts().keys(), timeout=60, what="the later punches")
        result = report(
            r.check("8 CONTROL unsafe delete-on-PUBACK", rounds=1, drain_seconds=time.monotonic() - since)
        )
        assert result.lost > 0, result
