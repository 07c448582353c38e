"""Row g's companion: a burst of 1,000 awards produces a bounded number of sign updates.

The cloud's display publisher publishes at most once per ``display_debounce_s`` (a minimum interval),
and the agent hands each sign only its newest pending content, so a burst of awards coalesces into
a few publications and a few sign writes. Measured from outside the processes:

- publications: messages on the agent's ``down/display`` topic (the bench's own MQTT client), from
  the burst's first POST until the sign shows a final, decisive award;
- sign packets: the Alpha simulator's count of packets taken, over the same span;
- per award: its POST's answer (the award is committed) → the first publication generated after it
  (``generated_at``: the projection read the database after the commit), p50/p95/p99.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.recorder import Recorder
from firmware_protocols import sync

BURST: Final = 1_000
# Concurrent API clients. SQLite takes one writer at a time, so more clients only queue longer: at 16,
# on a loaded machine, an award waited past the cloud's 10 s busy timeout and was answered 500.
THREADS: Final = 4


@dataclasses.dataclass
class Publications:
    """(arrival, generated_at) of every display publication seen, both ``time.time()`` seconds."""

    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    seen: list[tuple[float, float]] = dataclasses.field(default_factory=list)

    def on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        arrival = time.time()
        body = json.loads(message.payload) if message.payload else {}
        generated = dt.datetime.fromisoformat(str(body.get("generated_at", "1970-01-01T00:00:00+00:00")))
        with self.lock:
            self.seen.append((arrival, generated.timestamp()))

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        with self.lock:
            return [(a, g) for a, g in self.seen if start <= a <= end]


@contextmanager
def watching_display(port: int, agent_id: str) -> Iterator[Publications]:
    publications = Publications()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-display-{agent_id}")
    client.on_message = publications.on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.subscribe(sync.topic(agent_id, sync.Channel.DISPLAY), 1)
    client.loop_start()
    try:
        if not subscribed.wait(timeout=15):
            raise TimeoutError("the bench's display watcher could not subscribe")
        yield publications
    finally:
        client.disconnect()
        client.loop_stop()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BurstResult:
    seconds: float  # first POST → last answer
    committed: list[float]  # each award's answer time
    publications: list[tuple[float, float]]
    sign_packets: int
    settle_ms: float  # last answer of the burst → the sign shows the decisive award


def post_burst(api: str, token: str, member_ids: list[int], awards: int) -> tuple[float, list[float]]:
    """Post ``awards`` +1 awards from THREADS clients at once; (seconds taken, answer times)."""
    shares = [member_ids for _ in range(THREADS)]
    per_thread = [awards // THREADS + (i < awards % THREADS) for i in range(THREADS)]

    def worker(members: list[int], count: int) -> list[float]:
        answered: list[float] = []
        headers = {"Authorization": f"Bearer {token}"}
        pick = random.Random(count)
        with httpx.Client(base_url=api, headers=headers, timeout=60) as client:
            for _ in range(count):
                body = {"member_id": pick.choice(members), "point_type": "A", "points": 1, "reason": "burst"}
                response = client.post(
                    "/ledger-entries", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
                )
                if response.status_code != 201:
                    raise AssertionError(f"award answered {response.status_code}: {response.text[:300]}")
                answered.append(time.time())
        return answered

    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(worker, m, n) for m, n in zip(shares, per_thread, strict=True)]
        committed = sorted(t for f in futures for t in f.result())
    return committed[-1] - start, committed


def burst(
    *,
    api: str,
    token: str,
    member_ids: list[int],
    publications: Publications,
    sign_packets: Callable[[], int],
    decisive_award: Callable[[], float],
    awards: int = BURST,
) -> BurstResult:
    """One burst, then a decisive award (a new leader) timed to the sign; the counts in between."""
    packets_before = sign_packets()
    start = time.time()
    seconds, committed = post_burst(api, token, member_ids, awards)
    decisive_award()
    end = time.time()
    return BurstResult(
        seconds=seconds,
        committed=committed,
        publications=publications.between(start, end),
        sign_packets=sign_packets() - packets_before,
        settle_ms=(end - committed[-1]) * 1000,
    )


def award_to_publication_ms(result: BurstResult) -> list[float]:
    """Per award: its answer → the arrival of the first publication generated after it."""
    ordered = sorted(result.publications, key=lambda p: p[1])
    out: list[float] = []
    for answered in result.committed:
        carrying = next((arrival for arrival, generated in ordered if generated >= answered), None)
        if carrying is None:
            raise AssertionError("an award of the burst was never published")
        out.append((carrying - answered) * 1000)
    return out


def record_lines(record: Recorder, results: list[BurstResult], awards: int, *, debounce_s: float) -> None:
    """The coalescing lines of ``results`` (one burst per repeat)."""
    seconds = [round(r.seconds, 2) for r in results]
    bounds = [int(s / debounce_s) + 2 for s in seconds]
    why = (
        f"{awards:,} awards (+1 to one of the sign's rows each) posted by {THREADS} API clients at "
        f"once took {seconds} s per repeat; "
        f"the publisher's minimum interval ({debounce_s} s) bounds publications to {bounds} (burst / "
        "interval + 2, the decisive award included). " + WHY_COALESCING
    )
    label = f"{awards:,}-award burst → display publications"
    published = tuple(float(len(r.publications)) for r in results)
    record.ours("coalesce-publications", label, "messages", published, against=None, why=why)
    packets = tuple(float(r.sign_packets) for r in results)
    label = f"{awards:,}-award burst → Alpha packets to the sign"
    record.ours("coalesce-sign-packets", label, "packets", packets, against=None, why=WHY_PACKETS)
    per_award = [award_to_publication_ms(r) for r in results]
    for name, cut in (("p50", 49), ("p95", 94), ("p99", 98)):
        samples = tuple(round(statistics.quantiles(r, n=100, method="inclusive")[cut], 1) for r in per_award)
        label = f"award in a burst → display publication carrying it, {name}"
        record.ours(f"coalesce-{name}", label, "ms", samples, against=None, why=WHY_BURST_AWARD)
    settle = tuple(round(r.settle_ms, 1) for r in results)
    label = "burst's last award → sign shows the next new leader"
    record.ours("coalesce-settle", label, "ms", settle, against=None, why=WHY_SETTLE)


WHY_COALESCING: Final = (
    "Counted by the bench's own MQTT client on the agent's down/display topic, from the burst's first "
    "POST until the sign shows a decisive award made right after it."
)
WHY_PACKETS: Final = (
    "Packets the Alpha sign simulator took over the same span: the agent shows each sign only its "
    "newest pending content, and only the STRING files that changed."
)
WHY_BURST_AWARD: Final = (
    "Each award of the burst, from its POST's answer (committed) to the arrival of the first "
    "publication generated after that answer: what coalescing costs one award in waiting."
)
WHY_SETTLE: Final = (
    "From the burst's last answer, through one more award making a new leader, to the sign's state "
    "showing it: the burst leaves no backlog behind."
)
