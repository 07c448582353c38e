"""The byte cap: punches are refused (OutboxFull), keep-latest kinds are shed and counted."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from edge_agent.outbox import AGENT_DEVICE, Outbox, OutboxFull, read_stats, running_outbox
from firmware_protocols.sync import LossReport
from tests.edge_agent.outbox.helpers import device_state, punch

CAP = 1024 * 1024
PAD = 2000


async def fill_with_punches(outbox: Outbox, start: int = 0) -> int:
    """Accept padded punches until the outbox refuses; return how many were stored."""
    stored = 0
    for n in range(start, start + 2000):
        try:
            stored += (await outbox.accept([punch(n, pad=PAD)])).stored
        except OutboxFull:
            return stored
    raise AssertionError("the outbox never filled up")


async def test_punches_are_refused_when_full_never_dropped(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db, max_bytes=CAP) as outbox:
        stored = await fill_with_punches(outbox)
        assert outbox.full
        with pytest.raises(OutboxFull):
            await outbox.accept([punch(99_999, pad=PAD)])
        stats = await outbox.stats()
        assert stats.backlog_rows == stored
        assert stats.full
        assert stats.dropped_total == 0
        # Acking makes room again: back-pressure, not loss.
        events = await outbox.claim_batch(100)
        await outbox.ack([e.id for e in events])
        assert (await outbox.accept([punch(99_999, pad=PAD)])).stored == 1
        assert not outbox.full
    assert stored > 100


async def test_control_under_the_cap_nothing_is_refused(tmp_path: Path) -> None:
    async with running_outbox(tmp_path / "outbox.db", max_bytes=64 * CAP) as outbox:
        for n in range(300):
            await outbox.accept([punch(n, pad=PAD)])
        assert not outbox.full


async def test_keep_latest_rows_are_shed_first_counted_and_reported(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    async with running_outbox(db, max_bytes=CAP) as outbox:
        for n in range(150):
            await outbox.accept([device_state(n, pad=PAD)])
        punches = await fill_with_punches(outbox)
        stats = await outbox.stats()
        events = await outbox.claim_batch(2000)
    shed = stats.dropped_by_kind.get("device_state", 0)
    assert shed > 0
    kinds = [e.kind for e in events]
    assert kinds.count("punch") == punches
    assert kinds.count("device_state") == 150 - shed
    reports = [LossReport.from_data(e.data) for e in events if e.kind == "loss_report"]
    assert all(e.device == AGENT_DEVICE for e in events if e.kind == "loss_report")
    assert sum(r.dropped_total for r in reports) == shed  # every drop reported exactly once
    assert read_stats(db).dropped_by_kind == {"device_state": shed}  # persisted


async def test_an_ack_on_a_full_disk_keeps_the_rows_and_the_outbox_alive(tmp_path: Path) -> None:
    """Deleting needs WAL pages too: on a full filesystem the ack is deferred, never fatal."""
    from tests.chaos.parts import can_mount, small_filesystem

    assert can_mount(), "this test needs root to mount a small tmpfs"
    with small_filesystem(tmp_path / "small", 2 * 1024 * 1024) as directory:
        async with running_outbox(directory / "outbox.db", max_bytes=64 * 1024 * 1024) as outbox:
            await outbox.accept([punch(i, pad=200) for i in range(200)])
            events = await outbox.claim_batch(200)
            ballast = directory / "ballast"
            # take every free byte of the filesystem
            with ballast.open("wb") as fill, contextlib.suppress(OSError):
                while True:
                    fill.write(b"\0" * 65536)
                    fill.flush()
            assert await outbox.ack([e.id for e in events]) == 0
            ballast.unlink()  # control: with room again, the same ack deletes the rows
            assert await outbox.ack([e.id for e in events]) == 200
