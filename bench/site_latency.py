"""A whole site against a real cloud: rows f and g of issue 10.

Parts: a simulated ZK terminal (in the bench process, so the bench presses "punch" and knows when),
a real ``mpm-agent run`` driving it and a simulated Alpha sign (``mpm-sim alpha-sign`` on a pty), a
real Mosquitto and a real ``mpm-cloud serve`` (SQLite).

f. Device → cloud commit at 20 punches/s: from the moment the terminal records a punch to the cloud's
   ack of that event (published right after its commit), seen by the bench's MQTT probe; the split
   at the events topic is in the line's reading.
g. Time to display: an award through the API → the sign's state file shows the new leader; the sign
   simulator writes its state as soon as a packet changes what it shows. Then coalescing
   (``sign_coalescing``): a burst of 1,000 awards → how many publications and sign packets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Final

import httpx

from bench import mqtt_probe
from bench import sign_coalescing as coalescing
from bench.cloud_db import AGENT_ID, Tenant, prepared
from bench.measure import Goal, Sizes
from bench.processes import START_TIMEOUT_S, agent_config, cloud_env, start_agent, start_cloud
from bench.profiling import Profile, sampling
from bench.recorder import Recorder
from bench.workdir import scratch
from simulators.state_file import read_state
from simulators.zk_terminal.server import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread
from tests.e2e.processes import ProcessGroup, process_group, start_alpha_sign
from tests.support.broker import running_broker
from tests.support.network import free_port
from tests.support.polling import wait_for

NAME: Final = "site_latency"
TITLE: Final = "device → cloud commit latency at 20 punches/s, and award → sign time to display"
SUMMARY: Final = (
    "A simulated ZK terminal and Alpha sign, a real `mpm-agent run`, Mosquitto and `mpm-cloud serve` "
    "(SQLite). Commit latency: punches at 20/s, each timed from the terminal recording it to the "
    "cloud's ack of its event (sent after the commit), seen by the bench's MQTT client. Time to "
    "display: `POST /ledger-entries` making a new leader → the sign simulator's state shows it. "
    "Coalescing: 1,000 awards posted at once to the members on the sign → display publications and "
    "sign packets (bounded by the publisher's minimum interval), and what waiting costs each award."
)
SIGN: Final = "lobby"
RATE: Final = 20.0
SHANGHAI: Final = dt.timezone(dt.timedelta(hours=8))
POLL_S: Final = 0.002
DEBOUNCE_S: Final = 0.2  # mpm-cloud serve's default display_debounce_s
SITE_MEMBERS: Final = 2_000  # one member per punch and per award: 3 + 1 runs of 300 punches and 20 awards


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Site:
    """The running parts, as the measurements need them."""

    terminal: TerminalThread
    api: str
    tenant: Tenant
    sign_state: Path
    broker_port: int
    group: ProcessGroup
    directory: Path


def run(sizes: Sizes, record: Recorder) -> None:
    """Start the site, then measure commit latency and time to display."""
    seconds = sizes.seconds(15.0, 3.0, smoke=2.0)
    awards = sizes.pick(20, 5 if not sizes.smoke else 2)
    runs = sizes.repeats + sizes.profile
    if (RATE * seconds + awards) * runs > SITE_MEMBERS:
        raise ValueError("every punch and award needs a member of its own: shorten the window or the repeats")
    with _site() as site:
        _commit_latency(sizes, record, site, seconds)
        headers = {"Authorization": f"Bearer {site.tenant.token}"}
        with httpx.Client(base_url=site.api, headers=headers, timeout=30) as client:
            making = _Awards(client, site)
            _display_latency(sizes, record, site, awards, making)
            _coalescing(sizes, record, site, making)


@contextmanager
def _site() -> Iterator[Site]:
    zk_port = free_port()
    with (
        scratch(NAME) as directory,
        running_broker(directory) as broker,
        prepared("sqlite", directory, members=SITE_MEMBERS) as tenant,
        process_group(directory / "logs") as group,
        TerminalThread(ZkTerminal(port=zk_port)) as terminal,
    ):
        api = start_cloud(group, cloud_env(tenant.url, broker.url))
        sign_tty, sign_state = start_alpha_sign(group, directory, SIGN)
        devices = _devices(zk_port, sign_tty)
        outbox = directory / "outbox.db"
        config = agent_config(
            directory, agent_id=AGENT_ID, mqtt_url=broker.url, outbox=outbox, devices=devices
        )
        start_agent(group, config)
        wait_for(
            lambda: _registered(terminal, group), timeout=START_TIMEOUT_S, what="the agent at the terminal"
        )
        yield Site(
            terminal=terminal,
            api=api,
            tenant=tenant,
            sign_state=sign_state,
            broker_port=broker.port,
            group=group,
            directory=directory,
        )


def _profiled(site: Site, key: str, record: Recorder, work: Callable[[], object]) -> None:
    """Run ``work`` once more with py-spy on the agent and on the cloud; record both profiles."""
    profiles: dict[str, Profile] = {}
    with ExitStack() as stack:
        for part in ("agent", "cloud"):
            output = site.directory / f"{key}-{part}.pyspy.txt"
            profiles[part] = stack.enter_context(sampling(site.group.children[part].pid, output))
        work()
    for part, profile in profiles.items():
        record.profiled(f"{key} ({part})", profile.top)


def _devices(zk_port: int, sign_tty: Path) -> str:
    return f"""[[devices]]
kind = "zkteco"
name = "zk-front"
host = "127.0.0.1"
port = {zk_port}
[[devices]]
kind = "alpha_sign"
name = "{SIGN}"
port = "{sign_tty}"
columns = 20
rows = 5
"""


def _registered(terminal: TerminalThread, group: ProcessGroup) -> bool:
    if group.children["agent"].poll() is not None:
        raise RuntimeError(f"the agent exited:\n{group.log_tail('agent')}")
    return terminal.registered_clients() > 0


_pins = iter(range(1, SITE_MEMBERS + 1))  # punches take members from the bottom, awards from the top


def _commit_latency(sizes: Sizes, record: Recorder, site: Site, seconds: float) -> None:
    """Row f: p50/p95/p99 per repeat of device → commit, with the split at the events topic."""
    runs = [_punch_window(site.terminal, site.broker_port, seconds) for _ in range(sizes.repeats)]
    for name, cut in (("p50", 49), ("p95", 94), ("p99", 98)):
        samples = tuple(round(statistics.quantiles(r[0], n=100, method="inclusive")[cut], 2) for r in runs)
        goal = Goal(value=50, higher_is_better=False) if name == "p95" else None
        to_topic = [round(statistics.quantiles(r[1], n=100, method="inclusive")[cut], 2) for r in runs]
        why = f"Of which device → events topic: {to_topic} ms per repeat. {WHY_COMMIT}"
        label = f"device → cloud commit at 20 punches/s, {name}"
        line = record.ours(
            f"commit-{name}", label, "ms", samples, against=None, why=why, goal=goal, row="f" if goal else ""
        )
        if sizes.profile and goal and not goal.met(line.median):
            _profiled(site, line.key, record, lambda: _punch_window(site.terminal, site.broker_port, seconds))


def _punch_window(terminal: TerminalThread, port: int, seconds: float) -> tuple[list[float], list[float]]:
    """Punch at RATE for ``seconds``; (device → ack, device → topic) latencies in ms."""
    sent: dict[str, float] = {}
    with mqtt_probe.watching(port, AGENT_ID, events=True) as probe:
        start = time.time()
        for i in range(int(RATE * seconds)):
            time.sleep(max(0.0, start + i / RATE - time.time()))
            pin = str(next(_pins))
            sent[pin] = time.time()
            terminal.punch(pin, dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0))
        ids = wait_for(
            lambda: _ids_seen(probe, set(sent)), timeout=60, what="every punch on the events topic"
        )
        wanted = {event_id for event_id, _arrival in ids.values()}
        probe.wait(lambda p: wanted <= p.acked_ids, timeout=120, what="every punch acked")
        with probe.lock:
            acked = _first_times([(t, ids_) for t, ids_ in probe.acks])
    total = [(acked[ids[pin][0]] - at) * 1000 for pin, at in sent.items()]
    to_topic = [(ids[pin][1] - at) * 1000 for pin, at in sent.items()]
    return total, to_topic


def _ids_seen(probe: mqtt_probe.Probe, pins: set[str]) -> dict[str, tuple[str, float]] | None:
    """PIN → (event id, arrival on the events topic) once every PIN in ``pins`` has been seen."""
    found: dict[str, tuple[str, float]] = {}
    with probe.lock:
        for arrival, batch in probe.batches:
            for event in batch.get("events", ()):
                pin = str(event.get("data", {}).get("pin", ""))
                if pin in pins and pin not in found:
                    found[pin] = (str(event["id"]), arrival)
    return found if len(found) == len(pins) else None


def _first_times(acks: list[tuple[float, list[str]]]) -> dict[str, float]:
    first: dict[str, float] = {}
    for arrival, ids in acks:
        for event_id in ids:
            first.setdefault(event_id, arrival)
    return first


class _Awards:
    """Awards that each make a new leader: a member not awarded before, more points than anyone."""

    def __init__(self, client: httpx.Client, site: Site) -> None:
        self._client = client
        self._site = site
        self._members = iter(sorted(site.tenant.member_ids.items(), key=lambda item: -int(item[0])))
        self._points = 10_000
        self.leaders: list[int] = []  # member ids, the newest leader last

    def times(self, awards: int, *, above: int = 0) -> list[float]:
        """Milliseconds from each award's POST to the sign showing it (``above``: extra headroom over
        the last leader, for points others gained since)."""
        out = []
        for _ in range(awards):
            self._points += 100 + above
            _pin, member_id = next(self._members)
            out.append(_award_to_sign(self._client, member_id, self._points, self._site.sign_state))
            self.leaders.append(member_id)
        return out


def _display_latency(sizes: Sizes, record: Recorder, site: Site, awards: int, making: _Awards) -> None:
    """Row g: per repeat, ``awards`` awards each making a new leader; p50/p95/p99 of award → sign."""
    runs = [making.times(awards) for _ in range(sizes.repeats)]
    for name, cut in (("p50", 49), ("p95", 94), ("p99", 98)):
        samples = tuple(round(statistics.quantiles(r, n=100, method="inclusive")[cut], 1) for r in runs)
        goal = Goal(value=300, higher_is_better=False) if name == "p95" else None
        label = f"award via API → sign shows it, {name}"
        line = record.ours(
            f"display-{name}", label, "ms", samples, against=None, why=WHY_DISPLAY, goal=goal,
            row="g" if goal else "",
        )  # fmt: skip
        if sizes.profile and goal and not goal.met(line.median):
            _profiled(site, line.key, record, lambda: making.times(awards))


def _coalescing(sizes: Sizes, record: Recorder, site: Site, making: _Awards) -> None:
    """Row g's companion: a 1,000-award burst → how many publications and sign packets (bounded)."""
    awards = sizes.pick(coalescing.BURST, 100)
    members = making.leaders[-5:]  # the rows on the sign: every award of the burst changes one
    results = []
    with coalescing.watching_display(site.broker_port, AGENT_ID) as publications:
        for _ in range(sizes.repeats):
            try:
                result = coalescing.burst(
                    api=site.api,
                    token=site.tenant.token,
                    member_ids=members,
                    publications=publications,
                    sign_packets=lambda: _sign_packets(site.sign_state),
                    decisive_award=lambda: making.times(1, above=awards)[0],
                    awards=awards,
                )
            except AssertionError as exc:  # an award refused: the cloud's log says why
                raise AssertionError(f"{exc}\ncloud log:\n{site.group.log_tail('cloud')[-3000:]}") from None
            results.append(result)
    coalescing.record_lines(record, results, awards, debounce_s=DEBOUNCE_S)


def _sign_packets(sign_state: Path) -> int:
    counters = (read_state(sign_state) or {}).get("counters", {})
    return int(counters.get("frames_ok", 0))


def _award_to_sign(client: httpx.Client, member_id: int, points: int, sign_state: Path) -> float:
    """Award ``points`` (a new top score) and wait for the sign to show it as rank 1; ms."""
    body = {"member_id": member_id, "point_type": "A", "points": points, "reason": "bench"}
    start = time.perf_counter()
    response = client.post("/ledger-entries", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    if response.status_code != 201:
        raise AssertionError(f"award answered {response.status_code}: {response.text[:300]}")
    deadline = start + 30
    while not _leader_shows(sign_state, points):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the sign never showed {points} points: {read_state(sign_state)}")
        time.sleep(POLL_S)
    return (time.perf_counter() - start) * 1000


def _leader_shows(sign_state: Path, points: int) -> bool:
    state = read_state(sign_state) or {}
    for line in state.get("showing", ()):
        words = str(line).split()
        if len(words) >= 2 and words[0] == "1" and words[-1] == str(points):
            return True
    return False


WHY_COMMIT: Final = (
    "From the terminal recording the punch (realtime event to the agent), through the outbox's "
    "durable accept, the link's batching, Mosquitto, the cloud's ingest and commit, to the ack's "
    "arrival at the bench (≈1 ms after the commit on loopback)."
)
WHY_DISPLAY: Final = (
    "The API commits the award and updates balances; the display publisher recomputes the sign's "
    "ranking (after its debounce) and publishes it retained; the agent renders the changed rows and "
    "writes Alpha packets to the pty; the sign simulator updates its state file."
)
