"""ZkTerminalDriver against the real simulator over loopback, with an in-memory EventSink double."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from zoneinfo import ZoneInfo

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zkteco.config import ZkTerminalConfig
from edge_agent.drivers.zkteco.driver import ZkTerminalDriver
from edge_agent.drivers.zkteco.punches import punch_record
from edge_agent.records import AcceptResult, DeviceRecord
from firmware_protocols.sync import EventKind, Punch, PunchState, VerifyMode
from firmware_protocols.zkteco import AttendanceRecord, RealtimeAttendance
from simulators.zk_terminal import ZkTerminal
from tests.support.network import free_port
from tests.support.polling import async_wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERIAL = "SIMDRIVER01"


class ListSink:
    """The EventSink test double: keeps unique records in order, counts duplicates."""

    def __init__(self) -> None:
        self.records: list[DeviceRecord] = []
        self.duplicates = 0
        self._keys: set[str | None] = set()

    async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
        new = [r for r in records if r.dedup_key not in self._keys]
        self._keys.update(r.dedup_key for r in new)
        self.records.extend(new)
        self.duplicates += len(records) - len(new)
        return AcceptResult(stored=len(new), duplicates=len(records) - len(new))


class RecordingHealth(DeviceHealth):
    """DeviceHealth that also lists its transitions."""

    def __init__(self) -> None:
        super().__init__()
        self.transitions: list[str] = []

    def up(self, device: str) -> None:
        if self.snapshot().get(device) != "up":
            self.transitions.append("up")
        super().up(device)

    def down(self, device: str, reason: str) -> None:
        if self.snapshot().get(device) != "down":
            self.transitions.append("down")
        super().down(device, reason)


def _config(port: int, transport: str, **overrides: object) -> ZkTerminalConfig:
    values: dict[str, object] = {
        "kind": "zkteco", "name": "gate-1", "host": "127.0.0.1", "port": port, "transport": transport,
        "comm_key": 12345, "pull_interval_s": 60.0, "timeout_s": 0.5,
        "reconnect_min_s": 0.05, "reconnect_max_s": 0.2,
    }  # fmt: skip
    values.update(overrides)
    return ZkTerminalConfig.model_validate(values)


def _terminal(port: int, records: int = 50) -> ZkTerminal:
    return ZkTerminal(port=port, comm_key=12345, records=records, serial_number=SERIAL)


class Running:
    """The driver as a background task, cancelled on exit."""

    def __init__(self, config: ZkTerminalConfig) -> None:
        self.sink = ListSink()
        self.health = RecordingHealth()
        self.driver = ZkTerminalDriver(config, self.sink, self.health)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.driver.run(), name="zk-driver")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def until(self, probe: Callable[[], object], what: str) -> None:
        async def check() -> bool:
            return bool(probe())

        await async_wait_for(check, timeout=10, what=what)


def _key(record: AttendanceRecord) -> str:
    return f"{SERIAL}|{record.user_id}|{record.time:%Y-%m-%d %H:%M:%S}|{record.state}"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def terminal(port: int) -> AsyncIterator[ZkTerminal]:
    async with _terminal(port) as running:
        yield running


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_pulls_the_log_then_follows_live_punches(
    terminal: ZkTerminal, port: int, transport: str
) -> None:
    async with Running(_config(port, transport, pull_interval_s=0.3)) as run:
        await run.until(lambda: len(run.sink.records) == 50 and terminal.registered_clients() == 1, "pull")
        assert [r.dedup_key for r in run.sink.records] == [_key(r) for r in terminal.model.log]
        punched = await terminal.punch("2", state=1, verify=15)
        await run.until(lambda: len(run.sink.records) == 51, "live punch")
        live = run.sink.records[-1]
        assert live.device_time == punched.time.strftime("%Y-%m-%d %H:%M:%S")
        assert live.occurred_at == punched.time.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
        assert Punch.from_data(live.data).verify_mode is VerifyMode.FACE
        await run.until(lambda: run.sink.duplicates >= 2 * 51, "re-pulls of the same punches")
        assert len(run.sink.records) == 51  # the re-read log gave the live punch's dedup key again
        assert terminal.model.log  # the driver never clears the device log
        assert run.health.transitions == ["up"]


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_survives_the_terminal_stopping_and_restarting(port: int, transport: str) -> None:
    first = _terminal(port)
    await first.start()
    try:
        async with Running(_config(port, transport, pull_interval_s=0.2)) as run:
            await run.until(lambda: run.health.transitions == ["up"], "first connection")
            await first.stop()
            await run.until(lambda: run.health.transitions == ["up", "down"], "down after the stop")
            async with _terminal(port, records=60) as restarted:
                await run.until(lambda: run.health.transitions == ["up", "down", "up"], "back up")
                await run.until(lambda: restarted.registered_clients() == 1, "re-registered")
                await restarted.punch("1", state=0, verify=1)
                wanted = {_key(r) for r in restarted.model.log}  # a fresh log, plus the live punch
                await run.until(
                    lambda: wanted <= {r.dedup_key for r in run.sink.records}, "records after restart"
                )
            assert run.health.transitions == ["up", "down", "up"]
    finally:
        await first.stop()  # idempotent: a failing test must not leak the listener


@pytest.mark.parametrize("fault", [0, 3], ids=["control", "corrupt-3"])
async def test_survives_corrupted_replies(terminal: ZkTerminal, port: int, fault: int) -> None:
    async with Running(_config(port, "tcp", pull_interval_s=0.2)) as run:
        await run.until(lambda: run.health.transitions == ["up"] and terminal.registered_clients(), "up")
        if fault:
            terminal.inject_fault("corrupt", fault)
        await run.until(lambda: terminal.faults.remaining == 0 and run.sink.duplicates >= 3 * 50, "re-pulls")
        await run.until(lambda: terminal.registered_clients() == 1, "registered")
        await terminal.punch("3", state=1, verify=2)
        await run.until(lambda: len(run.sink.records) == 51, "live punch after the faults")
        errors = run.health.error_counts().get("gate-1", 0)
        if fault:
            assert terminal.faults.applied == fault
            assert run.health.transitions == ["up", "down", "up"]
            assert errors >= 1
        else:  # control: the same run without faults never goes down
            assert run.health.transitions == ["up"]
            assert errors == 0


def test_log_and_live_records_of_one_punch_are_identical() -> None:
    when = dt.datetime(2024, 5, 6, 8, 59)  # noqa: DTZ001 - device local time
    logged = AttendanceRecord(user_sn=1, user_id="1001", verify=99, state=7, time=when)
    live = RealtimeAttendance(user_id="1001", verify=99, state=7, time=when)
    a, b = (punch_record(device="gate-1", serial="SN1", zone=SHANGHAI, record=r) for r in (logged, live))
    assert a == b
    assert a.kind is EventKind.PUNCH
    assert a.dedup_key == "SN1|1001|2024-05-06 08:59:00|7"
    assert a.device_time == "2024-05-06 08:59:00"
    assert a.occurred_at == dt.datetime(2024, 5, 6, 0, 59, tzinfo=dt.UTC)
    punch = Punch.from_data(a.data)
    assert (punch.verify_mode, punch.verify_code) == (VerifyMode.OTHER, "99")
    assert (punch.state, punch.state_code) == (PunchState.UNDEFINED, "7")


@pytest.mark.parametrize(
    ("override", "field"),
    [({"timezone": "Mars/Olympus"}, "timezone"), ({"encoding": "klingon"}, "encoding"),
     ({"reconnect_min_s": 5, "reconnect_max_s": 1}, "reconnect_max_s")],
)  # fmt: skip
def test_config_rejects_bad_values(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _config(4370, "tcp", **override)


async def test_a_terminal_left_disabled_is_enabled_again_on_connect(port: int, terminal: ZkTerminal) -> None:
    """An agent killed while clearing the log leaves the keypad locked; the next session unlocks it."""
    terminal.model.enabled = False  # what a kill -9 between DISABLEDEVICE and ENABLEDEVICE leaves
    async with Running(_config(port, "tcp")) as run:
        await run.until(lambda: terminal.model.enabled, "the keypad unlocked")
