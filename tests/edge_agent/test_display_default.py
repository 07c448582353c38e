"""The agent shows content for ``sync.DEFAULT_SIGN`` on every sign the message does not name."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

from edge_agent.display import DisplayRouter
from edge_agent.outbox import running_outbox
from firmware_protocols.sync import DEFAULT_SIGN, DisplayContent, RankRow, SignContent, encode
from tests.edge_agent.link.support import RecordingSign
from tests.support.polling import async_wait_for

ROWS = (RankRow(rank=1, name="张*三", points=12),)


def content(version: int, *signs: str) -> bytes:
    made = tuple(SignContent(sign=s, title=f"for {s}", period="2026-12", rows=ROWS) for s in signs)
    return encode(DisplayContent(version=version, generated_at=dt.datetime.now(dt.UTC), signs=made))


async def test_default_content_reaches_every_sign_not_named(tmp_path: Path) -> None:
    hall, lobby, gate = RecordingSign(), RecordingSign(), RecordingSign()
    async with running_outbox(tmp_path / "outbox.db") as outbox:
        router = DisplayRouter(outbox, {"hall": hall, "lobby": lobby, "gate": gate})
        task = asyncio.create_task(router.run())
        try:
            assert await router.handle(content(1, DEFAULT_SIGN, "lobby"))

            async def all_shown() -> bool:
                return bool(hall.shown and lobby.shown and gate.shown)

            await async_wait_for(all_shown, what="content on all three signs")
            assert await router.handle(content(2, "lobby"))  # control: no default, nothing for the rest

            async def lobby_again() -> bool:
                return len(lobby.shown) == 2

            await async_wait_for(lobby_again, what="version 2 on the lobby sign")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert [(c.sign, c.title) for c in hall.shown] == [("hall", f"for {DEFAULT_SIGN}")]
    assert [(c.sign, c.title) for c in gate.shown] == [("gate", f"for {DEFAULT_SIGN}")]
    assert [(c.sign, c.title) for c in lobby.shown] == [("lobby", "for lobby"), ("lobby", "for lobby")]
    assert hall.shown[0].rows == ROWS
