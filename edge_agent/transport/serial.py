"""Serial ports as a ByteStream: pyserial opens and configures, the event loop waits (no threads).

The port is opened non-blocking (``timeout=0``, O_NONBLOCK, VMIN=1); reads and writes use
``os.read``/``os.write`` on its fd, woken by ``loop.add_reader``/``add_writer``. Unplugging shows
up as EIO/ENXIO or an empty read of a readable fd, and becomes ``TransportError``.
Works on ptys (which ignore baud and framing).
"""

from __future__ import annotations

import asyncio
import os
import termios
from typing import Final

import serial

from edge_agent.transport.base import ByteStream, TransportError

BYTESIZES: Final[dict[int, int]] = {
    5: serial.FIVEBITS,
    6: serial.SIXBITS,
    7: serial.SEVENBITS,
    8: serial.EIGHTBITS,
}
STOPBITS: Final[dict[float, float]] = {
    1: serial.STOPBITS_ONE,
    1.5: serial.STOPBITS_ONE_POINT_FIVE,
    2: serial.STOPBITS_TWO,
}


class SerialStream:
    def __init__(self, port: serial.Serial, path: str) -> None:
        self._port = port
        self._fd: int = port.fileno()
        self._path = path
        self._closed = False
        self._waiters: set[asyncio.Future[None]] = set()

    async def _wait(self, add: str, remove: str) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        getattr(loop, add)(self._fd, wake)
        self._waiters.add(ready)
        try:
            await ready
        finally:
            self._waiters.discard(ready)
            if not self._closed:
                getattr(loop, remove)(self._fd)

    async def read(self, max_bytes: int = 65536) -> bytes:
        """Bytes available now (waiting for at least one); TransportError when unplugged."""
        while True:
            self._check_open()
            try:
                data = os.read(self._fd, max_bytes)
            except BlockingIOError:
                await self._wait("add_reader", "remove_reader")
                continue
            except OSError as exc:
                raise TransportError(f"{self._path}: {exc.strerror or exc}") from exc
            if not data:
                raise TransportError(f"{self._path}: device disconnected")
            return data

    async def write(self, data: bytes) -> None:
        """Write every byte of ``data``."""
        view = memoryview(data)
        while view:
            self._check_open()
            try:
                view = view[os.write(self._fd, view) :]
            except BlockingIOError:
                await self._wait("add_writer", "remove_writer")
            except OSError as exc:
                raise TransportError(f"{self._path}: {exc.strerror or exc}") from exc

    async def aclose(self) -> None:
        """Close the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._waiters:  # wake a pending read/write: it then sees the stream closed
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._fd)
            loop.remove_writer(self._fd)
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._port.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"{self._path}: stream closed")


async def open_serial(
    path: str, *, baudrate: int, bytesize: int = 8, parity: str = "N", stopbits: float = 1
) -> ByteStream:
    """Open ``path`` (a tty, a USB adapter or a pty) as a non-blocking ByteStream."""
    try:
        port = serial.Serial(
            path,
            baudrate=baudrate,
            bytesize=BYTESIZES[bytesize],
            parity=parity,
            stopbits=STOPBITS[stopbits],
            timeout=0,
            write_timeout=0,
            exclusive=True,
        )
    except (serial.SerialException, OSError, ValueError, KeyError) as exc:
        raise TransportError(f"cannot open {path}: {exc}") from exc
    _make_empty_reads_block(port.fileno())
    return SerialStream(port, path)


def _make_empty_reads_block(fd: int) -> None:
    """VMIN=1 + O_NONBLOCK: "no data" is EAGAIN, so an empty read can only mean a hang-up.

    pyserial's ``timeout=0`` sets VMIN=VTIME=0, under which an idle line also reads as b"".
    """
    attributes = termios.tcgetattr(fd)
    attributes[6][termios.VMIN] = 1
    attributes[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attributes)
    os.set_blocking(fd, False)
