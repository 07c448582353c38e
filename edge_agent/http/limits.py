"""What one LAN client, and all of them together, can make an HTTP server hold or wait for.

Rules (a Pi-class box, 1,024 descriptors by default, a few dozen terminals on a site):
- connections are capped globally and per source address, well under the descriptor limit; an excess
  connection is closed at accept, before a byte is read, and counted;
- deadlines are absolute: the request head must be complete ``head_deadline_s`` after the connection
  (or the previous response) and the body ``body_deadline_s`` after the head. A slowloris that sends
  one byte a second cannot refresh them, as it can a per-read idle timeout;
- body bytes held in memory are bounded per request (``max_body_bytes``) and across all connections:
  the first ``body_allowance_bytes`` of every body are its own (a terminal's punch upload is a few
  hundred bytes, so it goes through while strangers hold the pool), the rest comes from one pool of
  ``max_buffered_bytes``. Worst case: max_connections × allowance + the pool (128 × 16 KiB + 8 MiB),
  whatever 150 half-sent 2 MB bodies try.
"""

from __future__ import annotations

import dataclasses
import resource
from typing import Final

# Descriptors kept free for everything that is not a LAN client: the outbox database and its WAL,
# the MQTT link, serial ports, log files, the event loop's own pipes, and refused sockets in the
# few accept batches not yet closed (server.ACCEPT_BATCH each).
DESCRIPTOR_RESERVE: Final = 128


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HttpLimits:
    """Bounds on connections, bytes and time for one server (defaults sized for a Pi)."""

    max_connections: int = 128
    max_connections_per_address: int = 8
    max_header_bytes: int = 16_384
    max_body_bytes: int = 1_048_576
    max_buffered_bytes: int = 8_388_608  # the shared pool for bodies past their allowance
    body_allowance_bytes: int = 16_384  # the part of each body that never waits for the pool
    # From connection (or previous response) to a complete head; longer than a terminal's poll interval
    # (ADMS Delay, 10 s) so that an idle keep-alive connection is reused rather than raced.
    head_deadline_s: float = 15.0
    body_deadline_s: float = 30.0  # from the head to the end of the body
    send_deadline_s: float = 30.0  # to hand a whole response to a client that reads slowly

    def within_descriptors(self, soft_limit: int | None = None) -> HttpLimits:
        """These limits with ``max_connections`` lowered to fit the process's RLIMIT_NOFILE."""
        cap = connection_cap(self.max_connections, soft_limit or descriptor_limit())
        if cap == self.max_connections:
            return self
        per_address = min(self.max_connections_per_address, cap)
        return dataclasses.replace(self, max_connections=cap, max_connections_per_address=per_address)


def descriptor_limit() -> int:
    """The soft RLIMIT_NOFILE of this process (a large number when unlimited)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_cap(configured: int, soft_limit: int) -> int:
    """``configured``, or half of the descriptors left after the reserve when that is lower (≥ 1).

    Half, because one agent may run several listeners (one per ADMS inventory entry, plus health).
    """
    return max(1, min(configured, (soft_limit - DESCRIPTOR_RESERVE) // 2))
