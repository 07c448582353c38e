"""Who may hold a connection and how many body bytes may be buffered: counted, never blocking.

``ConnectionGate.admit`` is called once per accepted socket, before anything is read. Addresses that
``reserved`` names (terminals bound to their address) still count against their per-address cap but
not against the global one, so a flood of strangers cannot lock a known terminal out.
``ByteBudget`` is the shared pool of buffered body bytes; a request that cannot take from it is refused
(503) and its bytes are given back at once.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable

HttpCounters = collections.Counter[str]
"""Event name → count: ``accepted``, ``refused_global``, ``refused_per_address``, ``head_deadline``,
``body_deadline``, ``send_deadline``, ``too_large``, ``budget_exhausted``, ``bad_request``."""


@dataclasses.dataclass(frozen=True, slots=True)
class Slot:
    """One admitted connection: its source address and whether it sits outside the global cap."""

    address: str
    reserved: bool


class ConnectionGate:
    """Open connections, globally and per address, within the caps."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_per_address: int,
        counters: HttpCounters,
        reserved: Callable[[str], bool] = lambda address: False,
    ) -> None:
        self._max, self._max_per_address = max_connections, max_per_address
        self._counters, self._reserved = counters, reserved
        self._by_address: collections.Counter[str] = collections.Counter()
        self._strangers = 0
        self.peak = 0

    @property
    def open(self) -> int:
        """Connections admitted and not yet released."""
        return self._by_address.total()

    def admit(self, address: str) -> Slot | None:
        """A slot for a new connection from ``address``; None (counted) when a cap is reached."""
        reserved = self._reserved(address)
        if self._by_address[address] >= self._max_per_address:
            self._counters["refused_per_address"] += 1
            return None
        if not reserved and self._strangers >= self._max:
            self._counters["refused_global"] += 1
            return None
        self._by_address[address] += 1
        self._strangers += not reserved
        self._counters["accepted"] += 1
        self.peak = max(self.peak, self.open)
        return Slot(address, reserved)

    def release(self, slot: Slot) -> None:
        """Give back a slot that ``admit`` gave."""
        self._by_address[slot.address] -= 1
        if self._by_address[slot.address] <= 0:
            del self._by_address[slot.address]
        self._strangers -= not slot.reserved


class ByteBudget:
    """A pool of ``capacity`` bytes shared by every request body being buffered."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.held = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False when the pool cannot hold them."""
        if self.held + size > self.capacity:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        """Return ``size`` reserved bytes."""
        self.held -= size
