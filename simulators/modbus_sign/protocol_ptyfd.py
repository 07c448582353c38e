"""pyserial URL handler ``ptyfd://N``: a Serial port over an already open file descriptor N.

Why: with ``--pty`` the simulator owns the master side of a pseudo-terminal, which has no path a
serial library could open, while the client opens the slave side by its symlink. pymodbus opens
ports with ``serial.serial_for_url``, so this handler (registered in
``serial.protocol_handler_packages``) lets its RTU server read and write the master fd. Each open
works on a ``dup`` of N, so pymodbus may close and reopen the port.
"""

from __future__ import annotations

import errno
import fcntl
import os

from serial import SerialException
from serial.serialposix import Serial as PosixSerial


class Serial(PosixSerial):
    """A POSIX serial port opened from a ``ptyfd://N`` URL."""

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        try:
            source = int(str(self.portstr).removeprefix("ptyfd://"))
            self.fd = os.dup(source)
        except (ValueError, OSError) as exc:
            raise SerialException(f"could not open {self.portstr}: {exc}") from exc
        os.set_blocking(self.fd, False)
        try:
            self._reconfigure_port(force_update=True)  # type: ignore[attr-defined]
        except (OSError, SerialException) as exc:
            if getattr(exc, "errno", None) not in (errno.EINVAL, errno.ENOTTY, None):
                raise
        self.pipe_abort_read_r, self.pipe_abort_read_w = os.pipe()
        self.pipe_abort_write_r, self.pipe_abort_write_w = os.pipe()
        fcntl.fcntl(self.pipe_abort_read_r, fcntl.F_SETFL, os.O_NONBLOCK)
        fcntl.fcntl(self.pipe_abort_write_r, fcntl.F_SETFL, os.O_NONBLOCK)
        self.is_open = True
