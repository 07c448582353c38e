"""Display routing: the cloud's retained display content → each sign driver, newest version only.

Rules: content whose ``version`` is not above the last applied one is ignored (a broker may deliver
a retained message twice, and a replay must never overwrite newer content). Accepted content is
persisted first (outbox keep-latest, so signs show it again after a restart without the cloud),
then handed to the signs by a separate task, so a slow sign never stalls the MQTT link. Each sign
only ever gets its newest pending content (older pending content is replaced, not queued).
Content for the sign ``sync.DEFAULT_SIGN`` goes to every sign the message does not name (the cloud
sends it while no display is configured for this agent).
Content is persisted only after it decoded, but the persisted copy is decoded again at start (it may
come from an older agent with a laxer decoder): if it no longer decodes it is dropped and counted in
``bad_persisted``, and the signs wait for the cloud, rather than the agent failing at every start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from edge_agent.outbox import Outbox
from firmware_protocols.sync import (
    DEFAULT_SIGN,
    DisplayContent,
    SignContent,
    SyncProtocolError,
    decode_display,
)

log = logging.getLogger(__name__)

LATEST_NAME: Final = "display"
SHOW_TIMEOUT_S: Final = 60.0


class Sign(Protocol):
    async def show(self, content: SignContent) -> None:
        """Put ``content`` on the sign."""
        ...


class DisplayRouter:
    def __init__(
        self, outbox: Outbox, signs: Mapping[str, Sign], *, on_delivery: Callable[[], None] = lambda: None
    ) -> None:
        self._outbox, self._signs, self._on_delivery = outbox, signs, on_delivery
        self.applied_version: int | None = None
        self.ignored = 0
        self.bad_persisted = 0
        self._pending: dict[str, SignContent] = {}
        self._wake = asyncio.Event()
        self._last: DisplayContent | None = None

    async def handle(self, payload: bytes) -> bool:
        """Apply a ``down/display`` payload; False when it is stale. Raises SyncProtocolError if bad."""
        content = decode_display(payload)
        self._on_delivery()  # even a stale or repeated delivery shows the cloud's content is current
        if not self._is_newer(content):
            self.ignored += 1
            return False
        await self._outbox.save_latest(LATEST_NAME, payload)
        self._apply(content)
        return True

    async def replay(self) -> None:
        """Queue the persisted content for the signs (start-up, before the cloud is reachable)."""
        payload = await self._outbox.load_latest(LATEST_NAME)
        if payload is not None:
            try:
                content = decode_display(payload)
            except SyncProtocolError as exc:
                self.bad_persisted += 1
                log.warning("persisted display content dropped: %s", exc)
                return
            if self._is_newer(content):
                log.info("replaying display content version %d", content.version)
                self._apply(content)

    async def run(self) -> None:
        """Replay, then push pending content to the signs for ever."""
        await self.replay()
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            for name, content in pending.items():
                await self._show(name, content)

    def show_again(self) -> None:
        """Queue the last content for every sign (the set of signs changed: new ones get it too)."""
        if self._last is not None:
            self._apply(self._last)

    def _is_newer(self, content: DisplayContent) -> bool:
        return self.applied_version is None or content.version > self.applied_version

    def _apply(self, content: DisplayContent) -> None:
        self.applied_version, self._last = content.version, content
        fallback: SignContent | None = None
        for sign_content in content.signs:
            if sign_content.sign in self._signs:
                self._pending[sign_content.sign] = sign_content
            elif sign_content.sign == DEFAULT_SIGN:
                fallback = sign_content
            else:
                log.warning("display content for unknown sign %r ignored", sign_content.sign)
        if fallback is not None:
            named = {sign_content.sign for sign_content in content.signs}
            for name in self._signs.keys() - named:
                self._pending[name] = dataclasses.replace(fallback, sign=name)
        self._wake.set()

    async def _show(self, name: str, content: SignContent) -> None:
        try:
            async with asyncio.timeout(SHOW_TIMEOUT_S):
                await self._signs[name].show(content)
        except Exception:
            log.exception("sign %s failed to show content", name)
