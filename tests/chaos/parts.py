"""The processes and places a chaos scenario breaks: a restartable Mosquitto, a terminal that locks
while disabled, and a small real filesystem for the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from firmware_protocols.zkteco import AttendanceRecord, Command, Packet
from simulators.zk_terminal.handlers import Session
from simulators.zk_terminal.server import ZkTerminal
from tests.support.broker import mosquitto_config
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for


class MosquittoProcess:
    """A Mosquitto on a fixed free port that can be frozen, killed and started again on that port."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.conf = tmp / "mosquitto.conf"
        self.conf.write_text(mosquitto_config(self.port, tmp))
        self.log = tmp / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["/usr/sbin/mosquitto", "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(lambda: accepts_tcp("127.0.0.1", self.port), timeout=15, what="mosquitto")

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)


class LockingTerminal(ZkTerminal):
    """The simulator plus one behaviour of real firmware it lacks: while a client has the terminal
    disabled (CMD_DISABLEDEVICE, e.g. around the driver's re-read and clear of the log), nobody can
    punch; the generator's punch waits, like a person at a busy terminal. The lock ends with
    CMD_ENABLEDEVICE or when that client's connection goes away."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._disabled_by: set[int] = set()
        self._usable = asyncio.Event()
        self._usable.set()

    def answer(
        self, session: Session | None, packet: Packet, transport: Literal["tcp", "udp"]
    ) -> tuple[Session, list[Packet]]:
        if session is not None and packet.command == Command.DISABLEDEVICE:
            self._lock(session.session_id, locked=True)
        elif session is not None and packet.command == Command.ENABLEDEVICE:
            self._lock(session.session_id, locked=False)
        return super().answer(session, packet, transport)

    def forget(self, session: Session | None) -> None:
        if session is not None:
            self._lock(session.session_id, locked=False)
        super().forget(session)

    async def punch(
        self, pin: str, when: dt.datetime | None = None, state: int = 0, verify: int = 1
    ) -> AttendanceRecord:
        await self._usable.wait()
        return await super().punch(pin, when, state, verify)

    def _lock(self, session_id: int, *, locked: bool) -> None:
        if locked:
            self._disabled_by.add(session_id)
        else:
            self._disabled_by.discard(session_id)
        if self._disabled_by:
            self._usable.clear()
        else:
            self._usable.set()


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (root)."""
    return os.geteuid() == 0


@contextmanager
def small_filesystem(path: Path, size_bytes: int) -> Iterator[Path]:
    """A tmpfs of ``size_bytes`` mounted at ``path`` (unmounted afterwards); a plain directory if 0."""
    path.mkdir(parents=True, exist_ok=True)
    if not size_bytes or not can_mount():
        yield path
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def filesystem_used(path: Path) -> tuple[int, int]:
    """(bytes used, bytes total) of the filesystem holding ``path``."""
    stats = os.statvfs(path)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize, stats.f_blocks * stats.f_frsize
