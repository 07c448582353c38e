"""Run a ``ZkTerminal`` on its own event loop in a background thread, for blocking clients (pyzk)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from firmware_protocols.zkteco import AttendanceRecord
from simulators.zk_terminal.faults import FaultKind
from simulators.zk_terminal.server import ZkTerminal

T = TypeVar("T")


class TerminalThread:
    """``with TerminalThread(ZkTerminal(...)) as sim:`` serves until the block ends."""

    def __init__(self, terminal: ZkTerminal, timeout: float = 10.0) -> None:
        self.terminal = terminal
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="zk-terminal", daemon=True)

    def __enter__(self) -> TerminalThread:
        self._thread.start()
        self.call(self.terminal.start())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.call(self.terminal.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(self.timeout)
            self._loop.close()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the terminal's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.timeout)

    def punch(
        self, pin: str, when: dt.datetime | None = None, state: int = 0, verify: int = 1
    ) -> AttendanceRecord:
        """Thread-safe ``ZkTerminal.punch``."""
        return self.call(self.terminal.punch(pin, when, state, verify))

    def registered_clients(self) -> int:
        return self.call(_registered(self.terminal))

    def inject_fault(self, kind: FaultKind, count: int = 1, delay_s: float = 2.0) -> None:
        """Thread-safe ``ZkTerminal.inject_fault``; armed when this returns."""
        self.call(_inject(self.terminal, kind, count, delay_s))


async def _registered(terminal: ZkTerminal) -> int:
    return terminal.registered_clients()


async def _inject(terminal: ZkTerminal, kind: FaultKind, count: int, delay_s: float) -> None:
    terminal.inject_fault(kind, count, delay_s)
