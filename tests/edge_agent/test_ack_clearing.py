"""The terminal's log is cleared only once the cloud acked every record read from it.

Real parts: the ZK simulator in its own thread (loopback TCP), the driver, a real outbox on a temp
SQLite file; the "cloud" acks with the ids the outbox gave (``claim_batch`` → ``ack``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zkteco.client import ZkClient
from edge_agent.drivers.zkteco.driver import ZkTerminalDriver
from edge_agent.outbox import SCHEMA_VERSION, Outbox, running_outbox
from edge_agent.outbox.schema import DDL_V1
from edge_agent.records import AcceptResult, DeviceRecord
from firmware_protocols.sync import EventKind
from simulators.zk_terminal import TerminalThread
from tests.edge_agent.zk_agent_support import (
    DEVICE,
    DriverTask,
    ack_everything,
    log_only_punch,
    punch_key,
    terminal_log,
    terminal_thread,
    until,
    until_known,
    zk_config,
)
from tests.support.polling import async_wait_for


class NaiveClearDriver(ZkTerminalDriver):
    """The control: clears once what the last read found is acked, without reading the log again."""

    async def _clear_if_acked(self, client: ZkClient, serial: str) -> None:
        await client.clear_attendance()
        self._note_pending(set(), log_size=0)


@dataclasses.dataclass
class Outcome:
    log_size_when_decided: int  # the terminal's log once the driver had reacted to the first ack
    lost: set[str]  # punches made on the terminal that never reached the outbox
    cleared: bool


async def late_punch_scenario(driver_class: type[ZkTerminalDriver], sim: TerminalThread, db: Path) -> Outcome:
    """Read 5 punches; a 6th lands in the log only; the cloud acks the 5; then acks everything."""
    async with running_outbox(db) as outbox:
        driver = driver_class(zk_config(sim.terminal.port), outbox, DeviceHealth())
        async with DriverTask(driver):
            made = terminal_log(sim)
            await until_known(outbox, {punch_key(r) for r in made}, "the first pull stored")
            late = log_only_punch(sim, "2")
            made.append(late)
            await ack_everything(outbox)

            async def reacted() -> bool:
                return not terminal_log(sim) or await outbox.is_known(DEVICE, punch_key(late))

            await async_wait_for(reacted, what="the driver's reaction to the ack")
            decided = len(terminal_log(sim))
            await ack_everything(outbox)
            await until(lambda: not terminal_log(sim), "the log cleared")
            lost = {punch_key(r) for r in made if not await outbox.is_known(DEVICE, punch_key(r))}
            return Outcome(log_size_when_decided=decided, lost=lost, cleared=not terminal_log(sim))


async def test_a_punch_after_the_read_survives_the_clear(tmp_path: Path) -> None:
    with terminal_thread(records=5) as sim:
        outcome = await late_punch_scenario(ZkTerminalDriver, sim, tmp_path / "outbox.db")
    assert outcome.log_size_when_decided == 6  # re-read found the late punch: no clear yet
    assert outcome.lost == set()
    assert outcome.cleared  # once it too was acked


async def test_control_a_naive_clear_after_the_ack_loses_the_late_punch(tmp_path: Path) -> None:
    with terminal_thread(records=5) as sim:
        outcome = await late_punch_scenario(NaiveClearDriver, sim, tmp_path / "outbox.db")
    assert outcome.log_size_when_decided == 0
    assert len(outcome.lost) == 1  # the scenario detects the loss


async def test_the_log_stays_until_every_record_read_is_acked(tmp_path: Path) -> None:
    with terminal_thread(records=8) as sim:
        async with running_outbox(tmp_path / "outbox.db") as outbox:
            driver = ZkTerminalDriver(zk_config(sim.terminal.port), outbox, DeviceHealth())
            async with DriverTask(driver):
                await until_known(outbox, {punch_key(r) for r in terminal_log(sim)}, "the pull stored")
                events = await outbox.claim_batch(100)
                await outbox.ack([e.id for e in events[:7]])  # one record not acked yet
                assert (await outbox.stats()).backlog_rows == 1
                assert len(terminal_log(sim)) == 8
                await outbox.ack([events[7].id])
                await until(lambda: not terminal_log(sim), "the log cleared after the last ack")


async def test_without_an_ack_ledger_the_log_is_never_cleared(tmp_path: Path) -> None:
    class PlainSink:
        """An EventSink that cannot say what the cloud acked."""

        def __init__(self) -> None:
            self.records: list[DeviceRecord] = []

        async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
            self.records.extend(records)
            return AcceptResult(stored=len(records), duplicates=0)

    with terminal_thread(records=3) as sim:
        sink = PlainSink()
        config = zk_config(sim.terminal.port, pull_interval_s=0.1)
        async with DriverTask(ZkTerminalDriver(config, sink, DeviceHealth())):
            await until(lambda: len(sink.records) >= 9, "three pulls")
        assert len(terminal_log(sim)) == 3


# -- the outbox side of the hook ---------------------------------------------------------------


def _punch(key: str, device: str = DEVICE) -> DeviceRecord:
    now = dt.datetime.now(dt.UTC)
    return DeviceRecord(
        kind=EventKind.PUNCH, device=device, occurred_at=now, device_time="", data={"dedup_key": key},
        dedup_key=key,
    )  # fmt: skip


async def test_ack_listeners_get_the_acked_keys_by_device(tmp_path: Path) -> None:
    heard: list[tuple[str, frozenset[str]]] = []
    async with running_outbox(tmp_path / "o.db") as outbox:
        outbox.on_acked(lambda device, keys: heard.append((device, keys)))
        await outbox.accept([_punch("a"), _punch("b"), _punch("x", device="other")])
        events = await outbox.claim_batch(10)
        assert await outbox.ack([e.id for e in events]) == 3
    assert sorted(heard) == [(DEVICE, frozenset({"a", "b"})), ("other", frozenset({"x"}))]


async def test_pending_keys_are_the_unseen_and_the_unacked(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "o.db") as outbox:
        await outbox.accept([_punch("acked"), _punch("waiting")])
        events = await outbox.claim_batch(10)
        await outbox.ack([e.id for e in events if e.data["dedup_key"] == "acked"])
        pending = await outbox.pending_keys(DEVICE, {"acked", "waiting", "never-seen"})
        assert pending == {"waiting", "never-seen"}
        assert await outbox.pending_keys("other", {"acked"}) == {"acked"}  # keys are per device


async def test_a_version_1_outbox_is_migrated_and_tombstones_persist(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(DDL_V1 + "PRAGMA user_version=1;")
    async with running_outbox(path) as outbox:
        await outbox.add_tombstone("42")
        await outbox.add_tombstone("43")
        await outbox.lift_tombstone("43")
    async with Outbox(path) as reopened:
        assert set(reopened.tombstones) == {"42"}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
