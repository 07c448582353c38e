"""Shared pieces for the ZK driver + real outbox tests: a simulator thread, a driver task, acks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from edge_agent.drivers.zkteco.driver import ZkTerminalDriver
from edge_agent.outbox import Outbox
from firmware_protocols.sync import Event, Punch
from firmware_protocols.zkteco import AttendanceRecord
from simulators.zk_terminal import TerminalThread, ZkTerminal
from tests.support.network import free_port
from tests.support.polling import async_wait_for

T = TypeVar("T")
DEVICE = "gate-1"
SERIAL = "SIMACK0001"


def zk_config(port: int, **overrides: object) -> ZkTerminalConfig:
    values: dict[str, object] = {
        "kind": "zkteco", "name": DEVICE, "host": "127.0.0.1", "port": port, "transport": "tcp",
        "pull_interval_s": 60.0, "timeout_s": 2.0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2,
    }  # fmt: skip
    values.update(overrides)
    return ZkTerminalConfig.model_validate(values)


@contextmanager
def terminal_thread(records: int = 0, **kwargs: Any) -> Iterator[TerminalThread]:
    """A ZK simulator on a free port, served from its own thread (its model is touched via ``on_sim``)."""
    terminal = ZkTerminal(port=free_port(), records=records, serial_number=SERIAL, **kwargs)
    with TerminalThread(terminal) as sim:
        yield sim


def on_sim(sim: TerminalThread, action: Callable[[], T]) -> T:
    """Run ``action`` on the simulator's own loop (the only thread that may touch its model)."""

    async def run() -> T:
        return action()

    return sim.call(run())


def log_only_punch(sim: TerminalThread, pin: str) -> AttendanceRecord:
    """A punch that lands in the terminal's log but whose live event never reaches the agent."""
    model = sim.terminal.model
    return on_sim(sim, lambda: model.add_punch(pin, model.now(), 1, 1))


def terminal_log(sim: TerminalThread) -> list[AttendanceRecord]:
    return on_sim(sim, lambda: list(sim.terminal.model.log))


def punch_key(record: AttendanceRecord) -> str:
    return f"{SERIAL}|{record.user_id}|{record.time:%Y-%m-%d %H:%M:%S}|{record.state}"


class DriverTask:
    """``async with DriverTask(driver)``: the driver runs as a task, cancelled on exit."""

    def __init__(self, driver: ZkTerminalDriver) -> None:
        self.driver = driver
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ZkTerminalDriver:
        self._task = asyncio.create_task(self.driver.run(), name="zk-driver")
        return self.driver

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def until(probe: Callable[[], object], what: str) -> None:
    async def check() -> bool:
        return bool(probe())

    await async_wait_for(check, timeout=10, what=what)


async def until_known(outbox: Outbox, keys: set[str], what: str) -> None:
    async def check() -> bool:
        return all([await outbox.is_known(DEVICE, key) for key in keys])

    await async_wait_for(check, timeout=10, what=what)


async def ack_everything(outbox: Outbox) -> list[Event]:
    """The fake cloud: claim every unacked event and ack it by the ids the outbox gave."""
    events = await outbox.claim_batch(100_000)
    await outbox.ack([e.id for e in events])
    return events


def punches(events: list[Event]) -> dict[str, Punch]:
    """The punch events by dedup key."""
    return {p.dedup_key: p for p in (Punch.from_data(e.data) for e in events if e.kind == "punch")}


def utc(record: AttendanceRecord, zone: dt.tzinfo) -> dt.datetime:
    return record.time.replace(tzinfo=zone).astimezone(dt.UTC)
