"""Device up/down bookkeeping: log once when a device goes down, once when it comes back.

The agent's status message and ``/metrics`` read ``DeviceHealth.snapshot()``; drivers call
``up()``/``down()`` as often as they like and only transitions are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal

DeviceState = Literal["unknown", "up", "down"]

log = logging.getLogger(__name__)


class DeviceHealth:
    def __init__(self) -> None:
        self._states: dict[str, DeviceState] = {}
        self._errors: dict[str, int] = {}

    def register(self, device: str) -> None:
        self._states.setdefault(device, "unknown")
        self._errors.setdefault(device, 0)

    def forget(self, device: str) -> None:
        """A device removed from the inventory: no longer reported."""
        self._states.pop(device, None)
        self._errors.pop(device, None)

    def up(self, device: str) -> None:
        if self._states.get(device) != "up":
            log.info("device %s is up", device)
        self._states[device] = "up"

    def down(self, device: str, reason: str) -> None:
        if self._states.get(device) != "down":
            log.warning("device %s is down: %s", device, reason)
        self._states[device] = "down"

    def count_error(self, device: str, kind: str) -> None:
        """Count a survived protocol fault (garbage, bad checksum, timeout) without a state change."""
        self._errors[device] = self._errors.get(device, 0) + 1
        log.debug("device %s: %s", device, kind)

    def snapshot(self) -> Mapping[str, DeviceState]:
        return dict(self._states)

    def error_counts(self) -> Mapping[str, int]:
        return dict(self._errors)
