"""The ISAPI driver against the ISAPI face simulator over loopback HTTP (both modes, faults, BIO-2)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import itertools
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

import pytest

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.isapi.driver import IsapiFaceDriver
from edge_agent.records import AcceptResult, DeviceRecord
from firmware_protocols.isapi.messages import UserInfo
from firmware_protocols.sync import EventKind
from simulators.isapi_face import IsapiFaceSimulator
from simulators.isapi_face.terminal import FAKE_JPEG
from tests.support.polling import async_wait_for

USER, PASSWORD = "admin", "face-pw-1"


class ListSink:
    """The outbox's contract in memory: durable at once, deduplicated on (device, dedup_key)."""

    def __init__(self) -> None:
        self.records: list[DeviceRecord] = []
        self.duplicates = 0

    async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
        known = {(r.device, r.dedup_key) for r in self.records}
        fresh = [r for r in records if (r.device, r.dedup_key) not in known]
        self.records += fresh
        self.duplicates += len(records) - len(fresh)
        return AcceptResult(stored=len(fresh), duplicates=len(records) - len(fresh))


def config(sim: IsapiFaceSimulator, mode: str, password: str = PASSWORD) -> IsapiFaceConfig:
    return IsapiFaceConfig.model_validate(
        {
            "kind": "isapi_face",
            "name": "face-1",
            "base_url": sim.url,
            "username": USER,
            "password": password,
            "mode": mode,
            "poll_interval_s": 0.2,
            "timeout_s": 2,
            "stream_idle_timeout_s": 2,
            "backoff_initial_s": 0.2,
            "backoff_max_s": 5,
        }
    )


async def running(driver: IsapiFaceDriver) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(driver.run(), name="isapi-driver")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def until_records(sink: ListSink, count: int) -> None:
    async def probe() -> bool:
        return len(sink.records) >= count

    await async_wait_for(probe, what=f"{count} records in the sink")


JPEG_MARKERS = (b"\xff\xd8\xff", b"/9j/", b"\\xff\\xd8\\xff")  # raw, base64, escaped


def _leaks(value: object) -> bool:
    if isinstance(value, Mapping):
        return any(_leaks(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_leaks(v) for v in value)
    if isinstance(value, bytes | bytearray):
        blob = bytes(value)
    elif isinstance(value, str):
        blob = value.encode("utf-8") + value.encode("latin-1", "ignore")
    else:
        blob = repr(value).encode()
    return any(marker in blob for marker in JPEG_MARKERS)


def egress_has_pictures(records: Sequence[DeviceRecord]) -> bool:
    """BIO-2 egress check: JPEG bytes (raw, decoded, base64 or escaped) in any field that reached the sink."""
    return any(_leaks([getattr(r, f.name) for f in dataclasses.fields(r)]) for r in records)


@pytest.fixture
async def sim() -> AsyncIterator[IsapiFaceSimulator]:
    simulator = IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2).start()
    yield simulator
    await asyncio.to_thread(simulator.stop)


async def test_pull_mode_pages_resumes_and_maps_punches(sim: IsapiFaceSimulator) -> None:
    for i in range(35):
        sim.punch(str(2000 + i))
    sink, health = ListSink(), DeviceHealth()
    driver = IsapiFaceDriver(config(sim, "pull"), sink, health)
    task = await running(driver)
    try:
        await until_records(sink, 35)
        assert health.snapshot()["face-1"] == "up"
        assert not sim.terminal.picture_upload.upload_capture_picture  # BIO-2: switched off at start
        sim.punch("2100", minor=1, verify_mode="card", attendance_status="checkOut")
        sim.punch("9", minor=76)  # face authentication failed: not a punch
        await until_records(sink, 36)
    finally:
        await stop(task)
    assert [r.data["pin"] for r in sink.records] == [str(2000 + i) for i in range(35)] + ["2100"]
    last = sink.records[-1]
    assert last.dedup_key == f"{sim.info.serial_number}|36"
    assert (last.data["verify_mode"], last.data["state"], last.data["similarity"]) == (
        "card",
        "check_out",
        None,
    )
    assert last.occurred_at.tzinfo is dt.UTC
    assert last.occurred_at == dt.datetime.fromisoformat(last.device_time)
    assert sink.duplicates == 0


@pytest.mark.parametrize("style", ["boundary", "MIME_boundary"])
async def test_stream_mode_catches_up_then_follows(style: str) -> None:
    sim = IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2, boundary_style=style).start()
    sink = ListSink()
    try:
        sim.punch("1")
        cfg = config(sim, "stream").model_copy(update={"poll_interval_s": 3600})
        task = await running(IsapiFaceDriver(cfg, sink, DeviceHealth()))
        await until_records(sink, 1)
        await async_wait_for(lambda: _true(sim.terminal.subscriber_count() == 1), what="stream open")
        sim.punch("2")
        await until_records(sink, 2)
        await stop(task)
    finally:
        await asyncio.to_thread(sim.stop)
    assert [r.data["pin"] for r in sink.records] == ["1", "2"]


async def _true(value: bool) -> bool:
    return value


async def test_pictures_arriving_anyway_are_dropped_and_counted() -> None:
    sim = IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2, pictures=True).start()
    sim.terminal.ignore_picture_setting = True  # a terminal that attaches pictures although told not to
    sink = ListSink()
    driver = IsapiFaceDriver(config(sim, "stream"), sink, DeviceHealth())
    try:
        task = await running(driver)
        await async_wait_for(lambda: _true(sim.terminal.subscriber_count() == 1), what="stream open")
        for pin in ("1", "2", "3"):
            sim.punch(pin)
        await until_records(sink, 3)
        await async_wait_for(lambda: _true(driver.metrics.pictures_dropped == 3), what="3 pictures dropped")
        await stop(task)
    finally:
        await asyncio.to_thread(sim.stop)
    assert sim.terminal.counters.pictures_sent == 3
    assert not egress_has_pictures(sink.records)


def test_egress_check_detects_pictures_control() -> None:
    """Control: the check above would catch JPEG bytes passed on raw, decoded or base64-encoded."""
    base = DeviceRecord(
        kind=EventKind.PUNCH,
        device="d",
        occurred_at=dt.datetime.now(dt.UTC),
        device_time="",
        data={"pin": "1"},
    )
    assert not egress_has_pictures([base])
    for leaked in (FAKE_JPEG.decode("latin-1"), base64.b64encode(FAKE_JPEG).decode(), FAKE_JPEG):
        record = DeviceRecord(
            kind=base.kind,
            device="d",
            occurred_at=base.occurred_at,
            device_time="",
            data={"pin": "1", "picture": leaked},
        )
        assert egress_has_pictures([record])


async def test_stream_drop_reconnects_and_garbage_is_survived(sim: IsapiFaceSimulator) -> None:
    sink, health = ListSink(), DeviceHealth()
    driver = IsapiFaceDriver(config(sim, "stream"), sink, health)
    task = await running(driver)
    try:
        await async_wait_for(lambda: _true(sim.terminal.subscriber_count() == 1), what="stream open")
        assert sim.terminal.counters.stream_connects == 1  # control: one stream so far
        sim.terminal.drop_streams()
        await async_wait_for(lambda: _true(sim.terminal.counters.stream_connects == 2), what="reconnect")
        await async_wait_for(lambda: _true(sim.terminal.subscriber_count() == 1), what="stream reopened")
        sim.terminal.inject_garbage(b"\x00\x01 not multipart at all \xfe\r\n")
        sim.punch("5")
        await until_records(sink, 1)
        await async_wait_for(lambda: _true(driver.metrics.parts_skipped >= 1), what="garbage counted")
    finally:
        await stop(task)
    assert driver.metrics.stream_reconnects >= 1
    assert health.snapshot()["face-1"] == "up"


async def test_wrong_password_goes_down_once_and_backs_off(
    sim: IsapiFaceSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_agent.device_health")
    health = DeviceHealth()
    task = await running(IsapiFaceDriver(config(sim, "pull", password="wrong"), ListSink(), health))
    try:
        await async_wait_for(
            lambda: _true(sim.terminal.counters.auth_failures >= 4), timeout=15, what="4 tries"
        )
    finally:
        await stop(task)
    times = sim.terminal.auth_failure_times
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(later > earlier * 1.2 for earlier, later in itertools.pairwise(gaps)), (
        gaps
    )  # growing, not a storm
    assert gaps[0] >= 0.15
    downs = [r for r in caplog.records if "is down" in r.getMessage()]
    assert len(downs) == 1
    assert "authentication" in downs[0].getMessage()
    assert "wrong" not in caplog.text  # the password never reaches a log line
    assert health.snapshot()["face-1"] == "down"


async def test_right_password_control(sim: IsapiFaceSimulator) -> None:
    health = DeviceHealth()
    task = await running(IsapiFaceDriver(config(sim, "pull"), ListSink(), health))
    try:
        await async_wait_for(lambda: _true(health.snapshot()["face-1"] == "up"), what="device up")
    finally:
        await stop(task)
    assert sim.terminal.counters.auth_failures == 0


async def test_delete_user_verifies_by_search(sim: IsapiFaceSimulator) -> None:
    driver = IsapiFaceDriver(config(sim, "pull"), ListSink(), DeviceHealth())
    sim.terminal.add_user(UserInfo(employee_no="1001", name="张三"))
    sim.terminal.add_user(UserInfo(employee_no="1002", name="李四"))
    assert await driver.delete_user("1001")
    assert list(sim.terminal.users) == ["1002"]
    sim.terminal.ignore_deletes = True  # control: a device that answers OK but keeps the person
    assert not await driver.delete_user("1002")
