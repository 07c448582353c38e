"""sd_notify and the systemd watchdog, with the standard library only.

Protocol (sd_notify(3)): systemd passes ``$NOTIFY_SOCKET``, a path or an abstract socket written with a
leading ``@``; each notification is one datagram of ``KEY=VALUE`` lines. Without the variable (run by hand,
in tests, in Docker) every call is a no-op, so the agent never needs to know how it was started.

Watchdog rule: systemd passes ``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``). We ping ``WATCHDOG=1`` every
half interval, but only if the real work loop called ``Watchdog.progress()`` since the previous ping. A
timer that pings unconditionally would keep a deadlocked agent "healthy"; this way a stalled loop stops
the pings and systemd restarts the unit. While stalled, each missed tick updates ``STATUS=`` so
``systemctl status`` says why.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping

__all__ = ["Watchdog", "notify", "ready", "status", "stopping", "watchdog_interval"]

logger = logging.getLogger(__name__)


def _socket_address(raw: str) -> str | None:
    """Turn ``$NOTIFY_SOCKET`` into an address for ``sendto``: ``@name`` is the abstract namespace."""
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None  # vsock and other forms are not used on our boxes


def notify(state: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Send one notification to ``$NOTIFY_SOCKET``; False when there is none or sending failed."""
    env = os.environ if environ is None else environ
    address = _socket_address(env.get("NOTIFY_SOCKET", ""))
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode("utf-8"), address)
    except OSError as exc:
        logger.warning("sd_notify to %r failed: %s", env["NOTIFY_SOCKET"], exc)
        return False
    return True


def ready(*, environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd start-up is complete (call only after the start-up checks passed)."""
    return notify("READY=1", environ=environ)


def status(text: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Set the one-line status shown by ``systemctl status``."""
    return notify("STATUS=" + text.replace("\n", " "), environ=environ)


def stopping(*, environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd a clean shutdown has begun."""
    return notify("STOPPING=1", environ=environ)


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog timeout in seconds from ``$WATCHDOG_USEC``, or None when it is not for this process."""
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID")
    if pid is not None and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


class Watchdog:
    """Pings ``WATCHDOG=1`` every half interval, but only while the work loop reports progress."""

    def __init__(self, interval_s: float | None, *, environ: Mapping[str, str] | None = None) -> None:
        self.interval_s = interval_s
        self._environ = environ
        self._progressed = False
        self._last_progress = time.monotonic()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Watchdog:
        """A watchdog configured from ``$WATCHDOG_USEC`` (disabled when systemd set none)."""
        return cls(watchdog_interval(environ), environ=environ)

    @property
    def enabled(self) -> bool:
        """True when systemd expects pings from us."""
        return self.interval_s is not None

    def progress(self) -> None:
        """Record that the work loop completed a turn; call it from the loop itself, never from a timer."""
        self._progressed = True
        self._last_progress = time.monotonic()

    def tick(self) -> bool:
        """One half-interval step: ping if progress was reported since the last tick; True if pinged."""
        if self._progressed:
            self._progressed = False
            notify("WATCHDOG=1", environ=self._environ)
            return True
        stalled_s = time.monotonic() - self._last_progress
        status(f"watchdog: no progress from the work loop for {stalled_s:.1f} s", environ=self._environ)
        return False

    async def run(self) -> None:
        """Tick forever at half the interval; returns at once when the watchdog is disabled."""
        if self.interval_s is None:
            return
        while True:
            await asyncio.sleep(self.interval_s / 2)
            self.tick()
