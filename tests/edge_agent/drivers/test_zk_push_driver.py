"""zk_push driver ↔ simulated terminal over loopback HTTP: punches once, resends, commands, photos."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json

import pytest

from firmware_protocols import zk_push
from firmware_protocols.sync import CommandResult, EventKind, Punch, PunchState, VerifyMode
from simulators.zk_push import PushTerminal, ServerRefused
from tests.edge_agent.drivers.zk_push_support import SN, running_driver
from tests.support.polling import async_wait_for

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def punches(events: list) -> list[Punch]:  # type: ignore[type-arg]
    return [Punch.from_data(e.data) for e in events if e.kind is EventKind.PUNCH]


@pytest.mark.parametrize("suffix", ["", "/", ".aspx"])
async def test_punches_arrive_exactly_once(suffix: str) -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN, path_suffix=suffix)
        terminal.punch("1001", status="0", verify="15", at=dt.datetime(2024, 1, 2, 8, 30, tzinfo=SHANGHAI))
        terminal.punch("1002", status="1", verify="2", at=dt.datetime(2024, 1, 2, 17, 45, 5, tzinfo=SHANGHAI))
        await asyncio.to_thread(terminal.sync_once)
        await asyncio.to_thread(terminal.sync_once)
        assert [(p.pin, p.verify_mode, p.state) for p in punches(run.sink.events)] == [
            ("1001", VerifyMode.FACE, PunchState.CHECK_IN),
            ("1002", VerifyMode.CARD, PunchState.CHECK_OUT),
        ]
        first = run.sink.events[0]
        assert first.occurred_at == dt.datetime(2024, 1, 2, 0, 30, tzinfo=dt.UTC)
        assert first.device_time == "2024-01-02 08:30:00"
        assert first.device == f"gate:{SN}"
        assert first.dedup_key == f"{SN}|1001|2024-01-02 08:30:00|0|15"
        assert terminal.memory.unsent() == []


async def test_error_reply_makes_the_terminal_resend_and_dedup_keeps_one() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN)
        terminal.punch("1001")
        run.sink.fail_after_store = 1
        with pytest.raises(ServerRefused):
            await asyncio.to_thread(terminal.sync_once)
        assert len(terminal.memory.unsent()) == 1  # the terminal kept it
        await asyncio.to_thread(terminal.sync_once)
        assert terminal.memory.unsent() == []
        assert run.sink.submitted == 2  # control: both uploads reached the sink; without dedup: 2 events
        assert len(punches(run.sink.events)) == 1
        assert run.driver.metrics["duplicates"] == 1


async def test_agent_restart_means_resend_from_none_without_duplicates() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN)
        terminal.punch("1001")
        await asyncio.to_thread(terminal.sync_once)
        terminal.options = None  # the terminal re-initialises; the agent says ATTLOGStamp=None
        run.driver._terminals[SN].attlog_stamp = "None"
        await asyncio.to_thread(terminal.sync_once)
        assert terminal.memory.counters["punches_uploaded"] == 2
        assert len(punches(run.sink.events)) == 1


@pytest.mark.parametrize("language", ["69", "83"])
async def test_commands_run_on_the_terminal_and_results_come_back(language: str) -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN, language=language)
        terminal.enroll(zk_push.UserEntry(pin="2002", name="李四"))
        terminal.punch("2002")
        await asyncio.to_thread(terminal.sync_once)
        queued = [
            await run.driver.queue_command(
                SN, zk_push.UpdateUser(user=zk_push.UserEntry(pin="1001", name="张三")), cmd_id="cloud-1"
            ),
            await run.driver.queue_command(SN, zk_push.DeleteUser(pin="2002")),
            await run.driver.queue_command(SN, zk_push.Info()),
            await run.driver.queue_command(SN, zk_push.ClearLog()),
            await run.driver.queue_command(SN, zk_push.Check()),
        ]
        await asyncio.to_thread(terminal.sync_once)
        assert {pin: u.name for pin, u in terminal.memory.users.items()} == {"1001": "张三"}
        assert terminal.memory.log == []
        results = [CommandResult.from_data(e.data) for e in run.sink.events if e.kind is EventKind.CMD_RESULT]
        assert [r.cmd_id for r in results] == queued
        assert queued[0] == "cloud-1"
        assert all(r.ok for r in results)
        assert "UserCount=1" in results[2].detail


async def test_gbk_terminal_gets_gbk_command_bytes() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN, language="83")
        await asyncio.to_thread(terminal.initialise)
        await run.driver.queue_command(SN, zk_push.UpdateUser(user=zk_push.UserEntry(pin="1", name="张三")))
        body = await asyncio.to_thread(_get, run.url, f"/iclock/getrequest?SN={SN}")
        assert "张三".encode("gbk") in body
        assert "张三".encode() not in body


async def test_photos_and_templates_are_dropped_and_counted() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, SN, photos=True)
        terminal.punch("1001")
        await asyncio.to_thread(terminal.sync_once)
        body = b"USER PIN=1001\tName=A\nFP PIN=1001\tFID=1\tTMP=U0VDUkVUVEVNUExBVEU=\n"
        body += b"USERPIC PIN=1001\tContent=/9j/4AA\n"
        await asyncio.to_thread(_post, run.url, f"/iclock/cdata?SN={SN}&table=OPERLOG&OpStamp=1", body)
        assert terminal.memory.counters["photos_uploaded"] == 1
        assert run.driver.metrics["photos_dropped"] == 1
        assert run.driver.metrics["templates_dropped"] == 1
        assert run.driver.metrics["pictures_dropped"] == 1
        egress = json.dumps([e.data for e in run.sink.events], ensure_ascii=False) + repr(run.sink.events)
        assert len(run.sink.events) == 1  # the punch only
        for trace in ("U0VDUkVU", "/9j/", "JFIF", "\\xff\\xd8"):
            assert trace not in egress


async def test_options_reply_asks_for_no_biometrics_and_sends_a_date() -> None:
    async with running_driver() as run:
        connection = http.client.HTTPConnection("127.0.0.1", int(run.url.rsplit(":", 1)[1]), timeout=5)
        await asyncio.to_thread(connection.request, "GET", f"/iclock/cdata?SN={SN}&options=all&language=69")
        response = await asyncio.to_thread(connection.getresponse)
        text = response.read().decode()
        connection.close()
        assert response.getheader("Date")
        _, options = zk_push.parse_options_reply(text)
        assert options.delay == 1
        assert options.timezone == "8"
        assert not set(options.trans_flag.split()) & zk_push.BIOMETRIC_TRANS_FLAGS


async def test_unknown_serial_is_refused_and_counted() -> None:
    async with running_driver() as run:
        terminal = PushTerminal(run.url, "STRANGER1")
        terminal.punch("1")
        with pytest.raises(ServerRefused, match="401"):
            await asyncio.to_thread(terminal.sync_once)
        assert run.driver.metrics["unknown_sn"] == 1
        assert run.sink.events == []


async def test_terminal_is_up_while_polling_and_down_after_silence() -> None:
    async with running_driver(delay_s=1) as run:
        device = f"gate:{SN}"
        assert run.health.snapshot()[device] == "unknown"
        await asyncio.to_thread(PushTerminal(run.url, SN).sync_once)
        assert run.health.snapshot()[device] == "up"

        async def is_down() -> bool:
            return run.health.snapshot()[device] == "down"

        await async_wait_for(is_down, timeout=8, what="terminal down after 3 × Delay")


async def test_tombstoned_user_reported_again_is_deleted_again() -> None:
    async with running_driver(tombstones={"9009"}) as run:
        terminal = PushTerminal(run.url, SN)
        terminal.enroll(zk_push.UserEntry(pin="9009", name="erased"))
        terminal.enroll(zk_push.UserEntry(pin="1001", name="kept"))
        await asyncio.to_thread(terminal.sync_once)
        assert sorted(terminal.memory.users) == ["1001"]
        assert run.driver.metrics["tombstone_deletes"] == 1


def _get(url: str, target: str) -> bytes:
    return _exchange(url, "GET", target, None)


def _post(url: str, target: str, body: bytes) -> bytes:
    return _exchange(url, "POST", target, body)


def _exchange(url: str, method: str, target: str, body: bytes | None) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=5)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        connection.close()
