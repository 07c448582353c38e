"""ISAPI people: upsert verified by search, the ``user_upsert`` command, and DEL-2 tombstones.

Everything runs against the ISAPI face simulator over loopback HTTP with Digest auth; the command
test goes through a real outbox and the ``CommandRunner``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from edge_agent.device_commands import DeviceCommands
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.isapi.client import IsapiClient
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.isapi.driver import IsapiFaceDriver
from edge_agent.drivers.registry import build_drivers
from edge_agent.link import CommandRunner
from edge_agent.outbox import Outbox, running_outbox
from firmware_protocols.isapi.messages import UserInfo, UserSearchCond
from firmware_protocols.sync import Command, CommandResult, EventKind, Punch, encode
from simulators.isapi_face import IsapiFaceSimulator
from tests.edge_agent.drivers.zk_push_support import MemorySink
from tests.support.network import free_port
from tests.support.polling import async_wait_for

USER, PASSWORD = "admin", "face-pw-1"
FACE = "face-1"


def face_config(base_url: str, mode: str = "pull") -> IsapiFaceConfig:
    return IsapiFaceConfig.model_validate(
        {"kind": "isapi_face", "name": FACE, "base_url": base_url, "username": USER, "password": PASSWORD,
         "mode": mode, "poll_interval_s": 0.2, "timeout_s": 2, "stream_idle_timeout_s": 2,
         "backoff_initial_s": 0.2, "backoff_max_s": 2}
    )  # fmt: skip


@pytest.fixture
async def sim() -> AsyncIterator[IsapiFaceSimulator]:
    simulator = IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2).start()
    yield simulator
    await asyncio.to_thread(simulator.stop)


def sim_users(sim: IsapiFaceSimulator) -> dict[str, str]:
    """The simulator's people: PIN → name."""
    return sim.terminal.locked(lambda: {pin: user.name for pin, user in sim.terminal.users.items()})


async def searched(config: IsapiFaceConfig, pin: str) -> list[UserInfo]:
    """What ``UserInfo/Search`` answers for ``pin`` (a second, independent read-back)."""
    async with IsapiClient(config) as client:
        page = await client.search_users(UserSearchCond(search_id="t", employee_nos=(pin,)))
    return list(page.users)


async def test_upsert_records_the_user_and_search_shows_them(sim: IsapiFaceSimulator) -> None:
    config = face_config(sim.url)
    driver = IsapiFaceDriver(config, MemorySink(), DeviceHealth())
    assert await searched(config, "4001") == []  # control: not there before
    assert await driver.upsert_user("4001", "Zhang San")
    assert await searched(config, "4001") == [UserInfo(employee_no="4001", name="Zhang San")]
    assert await driver.upsert_user("4001", "张三")  # an update of the same person
    assert sim_users(sim) == {"4001": "张三"}


async def test_upsert_on_an_unreachable_terminal_is_not_verified() -> None:
    driver = IsapiFaceDriver(face_config(f"http://127.0.0.1:{free_port()}"), MemorySink(), DeviceHealth())
    assert not await driver.upsert_user("4001", "Zhang San")


async def test_upsert_is_not_verified_when_the_read_back_differs(sim: IsapiFaceSimulator) -> None:
    driver = IsapiFaceDriver(face_config(sim.url), MemorySink(), DeviceHealth())
    original = sim.terminal.add_user

    def keep_old_name(user: UserInfo) -> None:  # fault: the terminal answers OK but keeps the old name
        original(UserInfo(employee_no=user.employee_no, name="old name"))

    sim.terminal.add_user = keep_old_name  # type: ignore[method-assign]
    assert not await driver.upsert_user("4002", "new name")
    assert sim_users(sim) == {"4002": "old name"}


async def run_command(runner: CommandRunner, outbox: Outbox, kind: str, **args: object) -> dict[str, str]:
    """Run one cloud command as the link would; the per-device report of its stored cmd_result."""
    cmd_id = uuid.uuid4().hex
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    await runner.handle(encode(Command(cmd_id=cmd_id, expires_at=expires, type=kind, args=dict(args))))
    events = [e for e in await outbox.claim_batch(1000) if e.kind == "cmd_result"]
    result = next(CommandResult.from_data(e.data) for e in events if e.data["cmd_id"] == cmd_id)
    assert result.ok, result.detail
    devices: dict[str, str] = json.loads(result.detail)["devices"]
    return devices


async def test_user_upsert_command_reports_verified_on_isapi(sim: IsapiFaceSimulator, tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        driver = IsapiFaceDriver(face_config(sim.url), outbox, DeviceHealth(), tombstones=outbox.tombstones)
        runner = CommandRunner(outbox, DeviceCommands({FACE: driver}, outbox).handlers())
        assert await run_command(runner, outbox, "user_delete", pin="77") == {FACE: "verified"}
        assert "77" in outbox.tombstones
        devices = await run_command(runner, outbox, "user_upsert", pin="77", name="Li Si", card=5)
        assert devices == {FACE: "verified"}
        assert "77" not in outbox.tombstones  # enrolled again on purpose
    assert sim_users(sim) == {"77": "Li Si"}


def punch_pins(sink: MemorySink) -> list[str]:
    return [Punch.from_data(e.data).pin for e in sink.events if e.kind is EventKind.PUNCH]


@pytest.mark.parametrize("mode", ["pull", "stream"])
async def test_a_tombstoned_person_seen_in_an_event_is_deleted_again(
    sim: IsapiFaceSimulator, mode: str
) -> None:
    for pin in ("3001", "3002"):
        sim.terminal.add_user(UserInfo(employee_no=pin, name=f"person {pin}"))
    sink, tombstones = MemorySink(), {"3001"}
    config = face_config(sim.url, mode)
    drivers = build_drivers([config], sink=sink, health=DeviceHealth(), tombstones=tombstones)
    driver = drivers.runners[FACE]
    assert isinstance(driver, IsapiFaceDriver)
    task = asyncio.create_task(driver.run(), name="isapi")
    try:
        sim.punch("3002")  # control: not tombstoned
        sim.punch("3001")

        def erased(times: int) -> Callable[[], Awaitable[bool]]:
            async def probe() -> bool:  # the driver has also finished its read-back
                return "3001" not in sim_users(sim) and driver.metrics.tombstone_deletes == times

            return probe

        await async_wait_for(erased(1), what="the tombstoned person deleted from the terminal")
        assert punch_pins(sink) == ["3002", "3001"]  # both events kept
        assert "3002" in sim_users(sim)

        sim.terminal.add_user(UserInfo(employee_no="3001", name="enrolled again at the terminal"))
        sim.punch("3001")
        await async_wait_for(erased(2), what="the reappearing person deleted again")
        assert punch_pins(sink) == ["3002", "3001", "3001"]
        assert sim_users(sim) == {"3002": "person 3002"}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
