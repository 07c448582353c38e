"""A real agent process draining a pre-filled outbox through Mosquitto to whoever acks.

Timed from outside: the clock starts when ``mpm-agent run`` is launched and the bench's MQTT probe
timestamps every ack on the agent's ``down/ack`` topic. A drain stops when every event is acked or
when its time window closes (a backlog far larger than today's speed allows in a window is measured
over the window and extrapolated; the figure says which). The agent's resident memory is sampled
throughout.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from pathlib import Path
from typing import Final

from bench import mqtt_probe
from bench.backlog_file import copy_backlog, unsent, write_backlog
from bench.cloud_db import AGENT_ID
from bench.processes import agent_config, start_agent, vm_rss_mib
from bench.profiling import Profile, sampling
from tests.e2e.processes import ProcessGroup
from tests.support.polling import wait_for

STEP_S: Final = 0.1
PROGRESS_EVERY_S: Final = 2.0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Drain:
    """What one drain showed (times are ``time.time()``)."""

    events: int
    acked: int
    started: float
    first_ack: float
    last_ack: float
    first_batch: int
    peak_rss_mib: float

    @property
    def complete(self) -> bool:
        return self.acked >= self.events

    @property
    def rate(self) -> float:
        """Steady events/s: acks after the first one, over the time since it (start-up excluded);
        with a single ack in the window, everything acked over the time since launch."""
        if self.last_ack > self.first_ack:
            return (self.acked - self.first_batch) / (self.last_ack - self.first_ack)
        return self.acked / max(self.last_ack - self.started, 1e-9)

    def seconds_for(self, events: int) -> float:
        """Time from launch to the last ack for ``events``: measured when drained, else extrapolated."""
        if self.complete and events == self.events:
            return self.last_ack - self.started
        return (self.first_ack - self.started) + events / max(self.rate, 1e-9)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DrainSetup:
    """Where the agent runs: its process group, scratch directory and broker."""

    group: ProcessGroup
    directory: Path
    broker_port: int

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.broker_port}"


def drain(
    setup: DrainSetup,
    name: str,
    rows: int,
    window_s: float,
    *,
    profile: Profile | None = None,
    profile_pid: int | None = None,
    template: Path | None = None,
) -> Drain:
    """Fill an outbox with ``rows`` new events, launch an agent on it, wait for the acks (or the window).

    With ``profile``, py-spy samples ``profile_pid`` (default: the agent) for the whole drain: an
    untimed, extra run. With ``template`` (a backlog of ``rows`` written once), the outbox is a copy
    of it: for a receiver that does not deduplicate, such as the stand-in cloud.
    """
    outbox = setup.directory / f"{name}.db"
    if template is None:
        write_backlog(outbox, rows, progress=rows >= 200_000)
    else:
        copy_backlog(template, outbox)
    config = agent_config(setup.directory, agent_id=AGENT_ID, mqtt_url=setup.mqtt_url, outbox=outbox)
    with mqtt_probe.watching(setup.broker_port, AGENT_ID) as probe:
        started = time.time()
        pid = start_agent(setup.group, config, name)
        try:
            if profile is None:
                peak = _follow(probe, pid, rows, started + window_s, name)
            else:  # sample from the first ack on: the drain, not the agent's start-up
                probe.wait(lambda p: p.acked > 0, timeout=window_s, what="the first ack")
                with sampling(profile_pid or pid, setup.directory / f"{name}.pyspy.txt") as taken:
                    peak = _follow(probe, pid, rows, started + window_s, name)
                profile.top = taken.top
            with probe.lock:
                acks = list(probe.acks)
                acked = probe.acked
            if acked >= rows:
                wait_for(
                    lambda: unsent(outbox) == 0, timeout=30, what="the acked rows deleted from the outbox"
                )
        finally:
            _stop(setup.group, name)
    if not acks:
        raise RuntimeError(f"no ack within {window_s:.0f}s:\n{setup.group.log_tail(name)}")
    return Drain(
        events=rows,
        acked=acked,
        started=started,
        first_ack=acks[0][0],
        last_ack=acks[-1][0],
        first_batch=len(acks[0][1]),
        peak_rss_mib=peak,
    )


def _follow(probe: mqtt_probe.Probe, pid: int, rows: int, deadline: float, what: str) -> float:
    """Wait for ``rows`` acks or the deadline, sampling RSS and printing progress; returns peak RSS."""
    peak = 0.0
    started = time.time()
    next_report = started + PROGRESS_EVERY_S
    while not probe.wait_acked(rows, STEP_S):
        peak = max(peak, vm_rss_mib(pid))
        now = time.time()
        if now >= next_report:
            mqtt_probe.report_progress(what, probe.acked, rows, now - started)
            next_report = now + PROGRESS_EVERY_S
        if now >= deadline:
            break
    return max(peak, vm_rss_mib(pid))


def _stop(group: ProcessGroup, name: str) -> None:
    child = group.children[name]
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
