"""The agent's link and memory, as a real ``mpm-agent run`` process: rows d and h of issue 10.

d. A pre-filled outbox drained through a real Mosquitto to a stand-in cloud (``bench.fake_cloud``,
   its own process, acks every batch after ``json.loads``), until every row is acked and deleted.
   Limit: raw paho publishing the same 100-event batches at QoS 1, 100 in flight, same broker and
   stand-in cloud.
h. The agent's resident memory (VmRSS) idle (empty outbox, link up) and at its peak while draining.
   Limit: a bare interpreter that imported asyncio and sqlite3.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from bench import mqtt_probe
from bench.agent_drain import Drain, DrainSetup, drain
from bench.backlog_file import write_backlog
from bench.cloud_db import AGENT_ID
from bench.codecs import sync_batches
from bench.import_memory import attribute
from bench.measure import Goal, Sizes, Stopwatch, rate, repeat_sync
from bench.processes import agent_config, start_agent, vm_rss_mib
from bench.profiling import Profile
from bench.recorder import Recorder
from bench.workdir import scratch
from firmware_protocols import sync
from tests.e2e.processes import process_group
from tests.support.broker import running_broker

NAME: Final = "edge_link"
TITLE: Final = "agent process: outbox → Mosquitto → ack → delete, and its resident memory"
SUMMARY: Final = (
    "A real `mpm-agent run` drains a pre-filled outbox (batches of 100 punches) through Mosquitto on "
    "loopback to a stand-in cloud process that acks each batch; timed from the launch's first ack to "
    "its last by the bench's own MQTT client. Limit: raw paho QoS 1, 100 events per message, 100 in "
    "flight, through the same broker to the same stand-in. Memory: the agent's VmRSS idle (link up, "
    "outbox empty) and its peak while draining, beside a bare `python` with asyncio + sqlite3."
)
PER_BATCH: Final = 100
_BARE: Final = (
    "import asyncio, sqlite3\n"
    "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')][0])"
)


@contextlib.contextmanager
def fake_cloud(port: int) -> Iterator[subprocess.Popen[str]]:
    """The acking stand-in cloud, started and stopped around the block."""
    command = [sys.executable, "-m", "bench.fake_cloud", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the stand-in cloud did not start")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def raw_publish(port: int, payloads: list[bytes]) -> float:
    """Events/s publishing every payload at QoS 1 (100 in flight), until the last PUBACK."""
    with Stopwatch() as watch:
        mqtt_probe.publish_all(port, sync.topic("bench-raw", sync.Channel.EVENTS), payloads, "bench-raw")
    return rate(len(payloads) * PER_BATCH, watch.seconds)


def bare_rss_mib() -> float:
    """VmRSS of a fresh interpreter that imported asyncio and sqlite3."""
    done = subprocess.run([sys.executable, "-c", _BARE], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


def idle_rss_mib(setup: DrainSetup, name: str, imports_ledger: Path | None = None) -> float:
    """The agent's VmRSS once its link is up with an empty outbox (median of 5 reads over 1 s).

    With ``imports_ledger``, the agent runs under ``bench.import_memory``, which writes there, as the
    agent exits, how much memory each module's import added."""
    outbox = setup.directory / f"{name}.db"
    write_backlog(outbox, 0)
    config = agent_config(setup.directory, agent_id=AGENT_ID, mqtt_url=setup.mqtt_url, outbox=outbox)
    with mqtt_probe.watching(setup.broker_port, AGENT_ID) as probe:
        if imports_ledger is None:
            pid = start_agent(setup.group, config, name)
        else:
            measured = [sys.executable, "-m", "bench.import_memory", str(imports_ledger), "--"]
            measured += ["edge_agent.cli:main", "run", "--config", str(config)]
            pid = setup.group.start(name, measured).pid
        probe.wait(lambda p: p.status.get(AGENT_ID) == "online", timeout=60, what="the agent online")
        reads = []
        for _ in range(5):
            time.sleep(0.2)  # settle: let start-up garbage be collected between reads
            reads.append(vm_rss_mib(pid))
        setup.group.children[name].terminate()
        setup.group.children[name].wait(timeout=30)
    return statistics.median(reads)


def run(sizes: Sizes, record: Recorder) -> None:
    """Broker and stand-in cloud up; the paho limit, our drains, then memory."""
    events = sizes.pick(100_000, 3_000 if not sizes.smoke else 500)
    window = sizes.seconds(120.0, 30.0)
    with (
        scratch(NAME) as directory,
        running_broker(directory) as broker,
        fake_cloud(broker.port),
        process_group(directory / "logs") as group,
    ):
        setup = DrainSetup(group=group, directory=directory, broker_port=broker.port)
        payloads = sync_batches(events // PER_BATCH, PER_BATCH)
        raw = repeat_sync(sizes.repeats, lambda: raw_publish(broker.port, payloads))
        record.limit("paho", "raw paho QoS 1, 100 events/message, 100 in flight", "events/s", raw, WHY_RAW)
        template = directory / "backlog-template.db"
        write_backlog(template, events, progress=events >= 200_000)  # the stand-in cloud never deduplicates
        drains = [drain(setup, f"link-{i}", events, window, template=template) for i in range(sizes.repeats)]
        goal = Goal(value=35_000)
        samples = tuple(d.rate for d in drains)
        label = f"agent process: outbox → QoS 1 → ack → delete, {events:,} backlog"
        why = WHY_OURS + _partial_note(drains)
        record.ours("link", label, "events/s", samples, against="paho", why=why, goal=goal, row="d")
        if sizes.profile and not goal.met(statistics.median(samples)):
            profile = Profile()
            drain(setup, "link-profiled", events, window, profile=profile, template=template)
            record.profiled("link", profile.top)
        bare = repeat_sync(sizes.repeats, bare_rss_mib)
        record.limit("bare", "bare python + asyncio + sqlite3", "MiB", bare, WHY_BARE)
        idle = repeat_sync(sizes.repeats, lambda: idle_rss_mib(setup, f"idle-{time.monotonic_ns()}"))
        idle_goal = Goal(value=40, higher_is_better=False)
        record.ours(
            "rss-idle", "agent VmRSS idle (link up)", "MiB", idle, against="bare",
            why=WHY_IDLE, goal=idle_goal, row="h",
        )  # fmt: skip
        if sizes.profile and not idle_goal.met(statistics.median(idle)):
            ledger = setup.directory / "idle-imports.json"
            measured = idle_rss_mib(setup, "idle-profiled", imports_ledger=ledger)
            top = attribute(json.loads(ledger.read_text()), measured)
            record.profiled("rss-idle", top, how=IMPORTS_MEASURED)
        peaks = tuple(d.peak_rss_mib for d in drains)
        record.ours(
            "rss-draining", f"agent VmRSS peak while draining {events:,}", "MiB", peaks, against="bare",
            why=WHY_DRAINING, goal=Goal(value=60, higher_is_better=False), row="h",
        )  # fmt: skip


def _partial_note(drains: list[Drain]) -> str:
    cut = [d for d in drains if not d.complete]
    return f" {len(cut)} of {len(drains)} drains hit the time window: rate over the window." if cut else ""


WHY_RAW: Final = (
    "Pipelined publishing, completion on PUBACK (the broker has it), never waiting for the cloud; "
    "the stand-in cloud still receives and acks every batch."
)
WHY_OURS: Final = (
    "Steady rate from the first ack to the last (start-up excluded). A row is deleted only after the "
    "cloud's ack, not the PUBACK, so the agent also claims rows, encodes batches, handles acks and "
    "commits the deletes, on one event loop sharing 2 cores with the broker and the stand-in cloud."
)
WHY_BARE: Final = "What any asyncio + sqlite3 service costs before it does anything."
WHY_IDLE: Final = (
    "Import footprint of the agent with no device configured and no health server, as measured by "
    "bench.import_memory (its profile below when the goal is missed): pydantic with pydantic_core's "
    "compiled library (≈ 7 MiB) and our configuration models built on it (most of the agent's own "
    "≈ 5 MiB), ssl (≈ 4 MiB: aiomqtt imports it, and a production agent speaks TLS), aiomqtt/paho "
    "(paho imports urllib.request, so http.client and email), the outbox and link. Nothing is "
    "imported for a driver, the HTTP server or pydantic's plugin scan "
    "(tests/edge_agent/test_import_footprint.py)."
)
IMPORTS_MEASURED: Final = (
    "bench.import_memory: an extra idle start with every module's import measured in VmRSS; "
    "each package's own growth"
)
WHY_DRAINING: Final = "Peak VmRSS sampled every 100 ms while the backlog drains: batches in flight, buffers."
