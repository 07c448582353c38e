"""Wire the sign to a pty (``pty.openpty`` + a symlink) or a serial device, in a thread or the foreground.

The pty keeps its own slave fd open, so a client closing and reopening the link never makes the
master read fail with EIO. After each change the state file and the PNG are rewritten.
Fault ``hold_line``: the sign stops taking bytes, as a wedged sign (or XOFF) does, so the client's
writes block. On a pty the slave's output is stopped (``tcflow TCOOFF``, which survives the client
reopening the port), so writes block at once; on a serial device only the reader pauses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pty
import selectors
import termios
import threading
import time
import tty
from pathlib import Path
from typing import Any, Protocol

import serial

from led_faces import AMBER, render_led_png
from simulators.alpha_sign.device import AlphaSignDevice
from simulators.alpha_sign.face import face_bitmap
from simulators.state_file import write_state

log = logging.getLogger(__name__)
POLL_S = 0.05


class Endpoint(Protocol):
    def fileno(self) -> int: ...

    def read(self) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def hold(self, held: bool) -> None: ...

    def close(self) -> None: ...


class PtyEndpoint:
    """A pty whose slave name is symlinked at ``link`` (a stale link is replaced)."""

    def __init__(self, link: Path) -> None:
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.link = link
        tmp = link.with_name(f".{link.name}.{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        os.replace(tmp, link)

    def fileno(self) -> int:
        return self.master

    def read(self) -> bytes:
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def hold(self, held: bool) -> None:
        """Stop (or restart) what the client writes from reaching us."""
        termios.tcflow(self._slave, termios.TCOOFF if held else termios.TCOON)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.link.is_symlink() and os.readlink(self.link) == os.ttyname(self._slave):
                self.link.unlink()
        os.close(self.master)
        os.close(self._slave)


class SerialEndpoint:
    """An existing serial device (for example one end of a socat pty pair)."""

    def __init__(self, path: str, baudrate: int = 9600) -> None:
        self._port = serial.Serial(path, baudrate, timeout=0)

    def fileno(self) -> int:
        return int(self._port.fileno())

    def read(self) -> bytes:
        return bytes(self._port.read(4096))

    def write(self, data: bytes) -> None:
        self._port.write(data)

    def hold(self, held: bool) -> None:
        """Nothing to do here: the paused reader lets the line's buffers fill."""

    def close(self) -> None:
        self._port.close()


class AlphaSignSimulator:
    """The sign on an endpoint: ``start()`` runs it in a thread, ``serve_forever()`` in the caller."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        address: str = "00",
        state_path: Path | None = None,
        png_path: Path | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.device = AlphaSignDevice(address=address)
        self.state_path = state_path
        self.png_path = png_path
        self._stop = threading.Event()
        self._held = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Any:
        return self.device.faults

    def state(self) -> dict[str, Any]:
        """A snapshot of the sign's state (thread-safe)."""
        with self._lock:
            return self.device.state()

    def hold_line(self, held: bool) -> None:
        """Fault: stop taking bytes (``True``) until released (``False``); see the module docstring."""
        self._held = held
        self.endpoint.hold(held)

    def start(self) -> AlphaSignSimulator:
        """Serve in a daemon thread; returns self."""
        self._publish()
        self._thread = threading.Thread(target=self.serve_forever, name="alpha-sign-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the endpoint (a pty link disappears: the cable is pulled)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.endpoint.close()

    def serve_forever(self) -> None:
        """Read, apply, answer, publish; until ``stop()``."""
        self._publish()
        with selectors.DefaultSelector() as selector:
            selector.register(self.endpoint.fileno(), selectors.EVENT_READ)
            while not self._stop.is_set():
                if self._held:
                    self._stop.wait(POLL_S)
                elif selector.select(timeout=POLL_S):
                    self._receive()

    def _receive(self) -> None:
        try:
            data = self.endpoint.read()
        except OSError as exc:  # EIO when nobody holds the other end of a serial pair
            log.debug("read failed: %s", exc)
            time.sleep(POLL_S)
            return
        if not data:
            return
        with self._lock:
            responses, changed = self.device.feed(data)
        if changed:  # publish first: whoever got an answer finds the state file current
            self._publish()
        self._answer(responses)

    def _answer(self, responses: list[bytes]) -> None:
        for response in responses:
            if self.device.faults.answer_delay_s:
                time.sleep(self.device.faults.answer_delay_s)
            self.endpoint.write(response)

    def _publish(self) -> None:
        state = self.state()
        if self.state_path is not None:
            write_state(self.state_path, state)
        if self.png_path is not None:
            render_led_png(face_bitmap(state), self.png_path, colour=AMBER)
