"""Scenarios 1-5 and 7: faults of the agent, the broker and the cloud; nothing lost, nothing doubled."""

from __future__ import annotations

import time
from pathlib import Path

from tests.chaos.conftest import ReportSink, Scale
from tests.chaos.harness import Report, rig
from tests.support.polling import wait_for


def assert_exact(result: Report) -> None:
    assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result


def test_agent_killed_repeatedly_during_sync(tmp_path: Path, scale: Scale, report: ReportSink) -> None:
    """1. kill -9 the agent while batches are in flight, again and again, while punches keep coming."""
    with rig(tmp_path) as r:
        r.start_cloud()
        r.start_agent()
        for _ in range(scale.kill_rounds):
            before = len(r.cloud_counts())
            r.punch_live(scale.punches_per_round)
            wait_for(lambda: len(r.cloud_counts()) > before, timeout=60, interval=0.02, what="sync under way")  # noqa: B023
            r.kill("agent")
            r.start_agent()
        since = time.monotonic()
        drain = r.wait_drained(since, timeout=120)
        r.wait_status_settled()
        assert_exact(
            report(r.check("1 agent kill -9 during sync", rounds=scale.kill_rounds, drain_seconds=drain))
        )


def test_broker_hang_then_agent_killed(tmp_path: Path, scale: Scale, report: ReportSink) -> None:
    """2. The broker hangs (SIGSTOP) long enough to be detected, the agent is killed, both come back."""
    with rig(tmp_path) as r:
        r.start_cloud()
        r.start_agent()
        r.punch_live(50)
        r.wait_drained(time.monotonic(), timeout=60)
        downs = r.log_count("agent", "MQTT link down")
        r.broker.pause()
        hang_ends = time.monotonic() + scale.hang_s
        r.punch_live(200)
        wait_for(
            lambda: r.log_count("agent", "MQTT link down") > downs,
            timeout=scale.hang_s + 30,
            what="the agent detecting the hung broker",
        )
        wait_for(lambda: time.monotonic() >= hang_ends, timeout=scale.hang_s + 5, what="the end of the hang")
        r.kill("agent")
        r.broker.resume()
        r.start_agent()
        drain = r.wait_drained(time.monotonic(), timeout=120)
        r.wait_status_settled()
        assert_exact(
            report(
                r.check(f"2 broker hang {scale.hang_s:.0f}s + agent kill -9", rounds=1, drain_seconds=drain)
            )
        )


def test_broker_down_with_a_partition_backlog(tmp_path: Path, scale: Scale, report: ReportSink) -> None:
    """3. The broker is down for a while; a large backlog piles up in the outbox and drains afterwards."""
    timeout = 1800 if scale.long else 150
    with rig(tmp_path, pull_interval_s=2.0) as r:
        r.start_cloud()
        r.start_agent()
        r.punch_live(20)
        r.wait_drained(time.monotonic(), timeout=60)
        r.broker.kill()
        outage_ends = time.monotonic() + scale.outage_s
        r.punch_into_log(scale.backlog)
        r.punch_live(20)
        wait_for(
            lambda: int(r.outbox_status()["backlog_rows"]) >= scale.backlog,  # type: ignore[call-overload]
            timeout=timeout,
            interval=1.0,
            what="the backlog in the outbox",
        )
        wait_for(
            lambda: time.monotonic() >= outage_ends, timeout=scale.outage_s + 5, what="the end of the outage"
        )
        r.broker.start()
        drain = r.wait_drained(time.monotonic(), timeout=timeout)
        name = f"3 broker down {scale.outage_s:.0f}s, backlog {scale.backlog}"
        r.wait_status_settled()
        assert_exact(report(r.check(name, rounds=1, drain_seconds=drain)))


def test_ingest_killed_between_commit_and_ack(tmp_path: Path, scale: Scale, report: ReportSink) -> None:
    """4. The cloud dies right after its database commit, before the Ack: the resend adds nothing."""
    with rig(tmp_path) as r:
        r.start_cloud(MPM_FAULT_EXIT_AFTER_COMMIT="2")
        r.start_agent()
        for _ in range(scale.ingest_kills):
            r.punch_live(100)
            cloud = r.group.children["cloud"]
            wait_for(lambda: cloud.poll() is not None, timeout=60, what="the injected ingest exit")  # noqa: B023
            assert cloud.returncode == 137
            r.start_cloud(MPM_FAULT_EXIT_AFTER_COMMIT="2")
        r.kill("cloud")
        r.start_cloud()
        drain = r.wait_drained(time.monotonic(), timeout=120)
        assert_exact(
            report(
                r.check(
                    "4 ingest exit after commit, before ack", rounds=scale.ingest_kills, drain_seconds=drain
                )
            )
        )


def test_burst_with_identical_timestamps(tmp_path: Path, report: ReportSink) -> None:
    """5. 500 people punch in the same second on one terminal: 500 rows, none merged."""
    with rig(tmp_path) as r:
        r.start_cloud()
        r.start_agent()
        since = time.monotonic()
        r.punch_live(250, same_time=True)
        r.punch_into_log(250, same_time=True)
        drain = r.wait_drained(since, timeout=120)
        assert_exact(report(r.check("5 burst of 500 with one timestamp", rounds=1, drain_seconds=drain)))
