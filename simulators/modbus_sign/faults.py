"""Fault injection on demand: drop, delay or corrupt the module's next replies.

Tests and people ask for faults by writing a small JSON file (``--faults FILE``), e.g.
``{"drop": 2, "corrupt": 1, "delay_s": 0.5, "delay_count": 1}``; the simulator re-reads it when its
modification time changes and counts each fault down as it injects it. In-process users set the
``Faults`` fields directly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Faults:
    drop: int = 0  # replies not sent at all
    corrupt: int = 0  # replies sent with the first byte flipped (RTU: bad CRC; TCP: foreign transaction id)
    delay_count: int = 0  # replies held back by delay_s
    delay_s: float = 0.0
    source: Path | None = None
    _seen_mtime: float = -1.0

    def reload(self) -> None:
        """Pick up a changed fault file (no file, or a broken one, means no new faults)."""
        if self.source is None:
            return
        try:
            mtime = self.source.stat().st_mtime
            if mtime == self._seen_mtime:
                return
            self._seen_mtime = mtime
            wanted = json.loads(self.source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.debug("fault file unreadable: %s", exc)
            return
        self.drop = int(wanted.get("drop", 0))
        self.corrupt = int(wanted.get("corrupt", 0))
        self.delay_count = int(wanted.get("delay_count", 0))
        self.delay_s = float(wanted.get("delay_s", 0.0))
        log.info("faults armed: %s", wanted)

    def take_delay(self) -> float:
        """Seconds to hold the next reply back (0 when no delay is armed)."""
        self.reload()
        if self.delay_count <= 0:
            return 0.0
        self.delay_count -= 1
        return self.delay_s

    def outgoing(self, packet: bytes) -> bytes:
        """The bytes actually sent for ``packet``: nothing, a corrupted copy, or the packet itself."""
        self.reload()
        if self.drop > 0:
            self.drop -= 1
            return b""
        if self.corrupt > 0 and packet:
            self.corrupt -= 1
            return bytes([packet[0] ^ 0xFF]) + packet[1:]
        return packet
