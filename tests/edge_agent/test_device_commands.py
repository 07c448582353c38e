"""Cloud device commands end to end inside the agent: command payload → CommandRunner → drivers →
simulators (ZK 4370 over TCP, ISAPI over HTTP, ADMS over HTTP) → cmd_result in a real outbox."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from edge_agent.clock import device_wall_time, reads_close
from edge_agent.device_commands import DeviceCommands
from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.isapi.driver import IsapiFaceDriver
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zk_push.driver import ZkPushDriver
from edge_agent.drivers.zkteco.driver import ZkTerminalDriver
from edge_agent.link import DEFAULT_HANDLERS, CommandRunner
from edge_agent.outbox import Outbox, running_outbox
from firmware_protocols.isapi.messages import UserInfo
from firmware_protocols.sync import Command, CommandResult, encode
from firmware_protocols.zkteco import UserRecord
from simulators.isapi_face import IsapiFaceSimulator
from simulators.zk_terminal import TerminalThread, ZkTerminal
from tests.edge_agent.zk_agent_support import DEVICE, SERIAL, DriverTask, on_sim, until, zk_config
from tests.support.network import free_port

FACE = "face-1"
ADMS_SN = "ADMS0001"
PASSWORD = "face-pw-1"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def run_command(
    runner: CommandRunner, outbox: Outbox, kind: str, **args: Any
) -> tuple[CommandResult, dict[str, str]]:
    """Run one cloud command as the link would; return its stored result and the per-device report."""
    cmd_id = uuid.uuid4().hex
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    await runner.handle(encode(Command(cmd_id=cmd_id, expires_at=expires, type=kind, args=args)))
    events = [e for e in await outbox.claim_batch(1000) if e.kind == "cmd_result"]
    result = next(CommandResult.from_data(e.data) for e in events if e.data["cmd_id"] == cmd_id)
    devices = json.loads(result.detail).get("devices", {}) if result.detail.startswith("{") else {}
    return result, devices


@dataclasses.dataclass
class Site:
    zk: TerminalThread
    face: IsapiFaceSimulator
    outbox: Outbox
    runner: CommandRunner

    async def command(self, kind: str, **args: Any) -> tuple[CommandResult, dict[str, str]]:
        return await run_command(self.runner, self.outbox, kind, **args)

    def zk_pins(self) -> set[str]:
        return on_sim(self.zk, lambda: {u.user_id for u in self.zk.terminal.model.users})

    def face_pins(self) -> set[str]:
        return set(self.face.terminal.locked(lambda: dict(self.face.terminal.users)))


def face_config(sim: IsapiFaceSimulator) -> IsapiFaceConfig:
    return IsapiFaceConfig.model_validate(
        {"kind": "isapi_face", "name": FACE, "base_url": sim.url, "username": "admin", "password": PASSWORD,
         "mode": "pull", "timeout_s": 2}
    )  # fmt: skip


@contextlib.contextmanager
def face_terminal() -> Iterator[IsapiFaceSimulator]:
    with IsapiFaceSimulator(password=PASSWORD) as sim:
        for pin in ("2", "1001"):
            sim.terminal.add_user(UserInfo(employee_no=pin, name=f"person {pin}"))
        yield sim


@contextlib.asynccontextmanager
async def site(tmp_path: Path, *, encoding: str = "utf-8") -> AsyncIterator[Site]:
    """A ZK terminal and a face terminal, the ZK driver running, the command runner over both."""
    port = free_port()
    terminal = ZkTerminal(port=port, serial_number=SERIAL, encoding=encoding)
    with TerminalThread(terminal) as zk, face_terminal() as face:
        async with running_outbox(tmp_path / "outbox.db") as outbox:
            config = zk_config(port, encoding=encoding, pull_interval_s=0.2)
            zk_driver = ZkTerminalDriver(config, outbox, DeviceHealth(), tombstones=outbox.tombstones)
            drivers = {DEVICE: zk_driver, FACE: IsapiFaceDriver(face_config(face), outbox, DeviceHealth())}
            runner = CommandRunner(outbox, {**DeviceCommands(drivers, outbox).handlers(), **DEFAULT_HANDLERS})
            async with DriverTask(zk_driver):
                await until(lambda: zk_driver.online, "the ZK session is up")
                yield Site(zk=zk, face=face, outbox=outbox, runner=runner)


async def test_user_delete_erases_the_person_from_zk_and_isapi_and_both_verify(tmp_path: Path) -> None:
    async with site(tmp_path) as s:
        assert "2" in s.zk_pins()
        assert "2" in s.face_pins()
        result, devices = await s.command("user_delete", pin="2")
        assert devices == {DEVICE: "verified", FACE: "verified"}
        assert result.ok
        assert "2" not in s.zk_pins()
        assert "2" not in s.face_pins()
        assert "1001" in s.face_pins()
        assert "3" in s.zk_pins()
        assert "2" in s.outbox.tombstones


async def test_a_face_terminal_that_ignores_deletes_is_reported_failed(tmp_path: Path) -> None:
    async with site(tmp_path) as s:
        s.face.terminal.ignore_deletes = True  # the fault: answers OK, keeps the person
        result, devices = await s.command("user_delete", pin="2")
    assert devices[FACE].startswith("failed")
    assert devices[DEVICE] == "verified"
    assert not result.ok


async def test_a_tombstoned_user_that_reappears_is_deleted_again(tmp_path: Path) -> None:
    async with site(tmp_path) as s:
        await s.command("user_delete", pin="2")
        model = s.zk.terminal.model
        for uid, pin in ((2, "2"), (40, "40")):  # someone re-enrols "2"; "40" is a control
            on_sim(s.zk, functools.partial(model.put_user, UserRecord(uid=uid, user_id=pin)))
        assert {"2", "40"} <= s.zk_pins()
        await until(lambda: "2" not in s.zk_pins(), "the tombstoned PIN deleted again")
        assert "40" in s.zk_pins()


async def test_an_offline_terminal_is_pending_then_erased_when_it_is_back(tmp_path: Path) -> None:
    port = free_port()
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        config = zk_config(port, pull_interval_s=0.2)
        driver = ZkTerminalDriver(config, outbox, DeviceHealth(), tombstones=outbox.tombstones)
        runner = CommandRunner(outbox, DeviceCommands({DEVICE: driver}, outbox).handlers())
        async with DriverTask(driver):
            result, devices = await run_command(runner, outbox, "user_delete", pin="2")
            assert devices == {DEVICE: "pending: terminal offline; deleted on reconnect"}
            assert result.ok
            with TerminalThread(ZkTerminal(port=port, serial_number=SERIAL)) as zk:
                users = zk.terminal.model
                await until(lambda: "2" not in on_sim(zk, lambda: {u.user_id for u in users.users}), "erased")


async def test_user_upsert_writes_a_gbk_name_and_lifts_the_tombstone(tmp_path: Path) -> None:
    async with site(tmp_path, encoding="gbk") as s:
        await s.command("user_delete", pin="88")
        result, devices = await s.command("user_upsert", pin="88", name="张三丰", card=123456, privilege=14)
        assert devices == {DEVICE: "verified", FACE: "verified"}
        assert result.ok
        user = on_sim(s.zk, lambda: s.zk.terminal.model.user("88"))
        assert user is not None
        assert (user.name, user.card, user.privilege) == ("张三丰", 123456, 14)
        assert "88" not in s.outbox.tombstones
        result, devices = await s.command("user_upsert", pin="88", name="张三", device=DEVICE)
        assert devices == {DEVICE: "verified"}
        assert on_sim(s.zk, lambda: [u.uid for u in s.zk.terminal.model.users if u.user_id == "88"]) == [
            user.uid
        ]


async def test_sync_time_sets_the_terminal_clock_and_reads_it_back(tmp_path: Path) -> None:
    async with site(tmp_path) as s:
        model = s.zk.terminal.model
        on_sim(s.zk, lambda: model.set_clock(model.now() + dt.timedelta(days=1)))
        result, devices = await s.command("sync_time")
        assert devices == {DEVICE: "verified", FACE: "unsupported"}
        assert result.ok
        assert reads_close(on_sim(s.zk, model.now), device_wall_time(SHANGHAI))


async def test_adms_terminals_get_the_delete_queued_for_their_next_poll(tmp_path: Path) -> None:
    config = ZkPushConfig(
        kind="zk_push", name="adms", listen_host="127.0.0.1", listen_port=0, allowed_serials=(ADMS_SN,)
    )
    async with running_outbox(tmp_path / "adms.db") as outbox:
        adms = ZkPushDriver(config, outbox, DeviceHealth(), tombstones=outbox.tombstones)
        runner = CommandRunner(outbox, DeviceCommands({"adms": adms}, outbox).handlers())
        task = asyncio.create_task(adms.run(), name="adms")
        try:
            port = await asyncio.wait_for(adms.port(), 10)
            result, devices = await run_command(runner, outbox, "user_delete", pin="2")
            async with httpx.AsyncClient() as http:
                poll = await http.get(f"http://127.0.0.1:{port}/iclock/getrequest", params={"SN": ADMS_SN})
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert devices == {f"adms:{ADMS_SN}": "queued"}
    assert result.ok
    assert b"DATA DELETE USERINFO PIN=2" in poll.content


async def test_bad_arguments_and_unknown_devices_are_refused_untouched(tmp_path: Path) -> None:
    async with site(tmp_path) as s:
        before = s.zk_pins()
        for kind, args in (
            ("user_delete", {}),
            ("user_delete", {"pin": "2; DROP"}),
            ("user_upsert", {"pin": "9", "privilege": 99}),
            ("user_upsert", {"pin": "9", "name": "x" * 25}),
            ("user_upsert", {"pin": "9", "device": "nowhere"}),
        ):
            result, _ = await s.command(kind, **args)
            assert not result.ok, (kind, args)
        assert s.zk_pins() == before
        assert not s.outbox.tombstones
