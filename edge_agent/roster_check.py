"""``roster_check``: compare each terminal's users with the PINs the cloud expects there (issue 11).

``args.pins`` lists every PIN the cloud's roster puts on this agent's terminals. Per device the result
(``{"devices": {...}}`` as for the user commands) is ``verified`` when the terminal holds exactly those
PINs, or ``drift: extra=<pins>; missing=<pins>``: extra users are a finding for the cloud, never deleted
here (a person on a device that no member explains is for an admin to decide); missing ones the cloud
sends again. ``pending``: the terminal is offline; ``unsupported``: its users cannot be read on demand
(ZK ADMS terminals only answer at their next poll). PINs are listed sorted, and the detail stays within
the result's bound (the per-device report keeps the devices that differ first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final

from edge_agent.device_commands import PIN_PATTERN, DeviceAdapter, Handler, Outcome, Status, detail_json
from firmware_protocols.sync import Command, CommandResult

MAX_PINS: Final = 10_000
DEVICE_TIMEOUT_S: Final = 60.0


class RosterCheck:
    """The ``roster_check`` handler over the device adapters of ``DeviceCommands``."""

    def __init__(self, devices: Mapping[str, DeviceAdapter]) -> None:
        self.devices = devices

    def handlers(self) -> dict[str, Handler]:
        return {"roster_check": self.roster_check}

    async def roster_check(self, command: Command) -> CommandResult:
        pins = command.args.get("pins")
        if not isinstance(pins, list) or len(pins) > MAX_PINS:
            return CommandResult(
                cmd_id=command.cmd_id, ok=False, detail=f"pins must be a list of at most {MAX_PINS}"
            )
        if not all(isinstance(p, str) and PIN_PATTERN.match(p) for p in pins):
            return CommandResult(
                cmd_id=command.cmd_id, ok=False, detail=f"every pin must match {PIN_PATTERN.pattern}"
            )
        expected = frozenset(pins)
        names = list(self.devices)
        outcomes = await asyncio.gather(*(self._check(self.devices[n], expected) for n in names))
        results = dict(zip(names, outcomes, strict=True))
        ok = all(o.status is not Status.FAILED for o in results.values())
        return CommandResult(cmd_id=command.cmd_id, ok=ok, detail=detail_json(results))

    async def _check(self, device: DeviceAdapter, expected: frozenset[str]) -> Outcome:
        driver = getattr(device, "driver", None)
        read = getattr(driver, "user_pins", None)  # ZK 4370 and ISAPI drivers; not ZK ADMS
        if read is None:
            return Outcome(status=Status.UNSUPPORTED)
        if getattr(driver, "online", True) is False:
            return Outcome(status=Status.PENDING, reason="terminal offline")
        try:
            async with asyncio.timeout(DEVICE_TIMEOUT_S):
                found = await read()
        except Exception as exc:
            return Outcome(status=Status.FAILED, reason=str(exc) or type(exc).__name__)
        if found is None:
            return Outcome(status=Status.FAILED, reason="terminal unreachable")
        return difference(expected, frozenset(found))


def difference(expected: frozenset[str], found: frozenset[str]) -> Outcome:
    """``verified`` when they are the same, else ``drift`` naming the extra and missing PINs."""
    extra, missing = sorted(found - expected), sorted(expected - found)
    if not extra and not missing:
        return Outcome(status=Status.VERIFIED)
    return Outcome(status=Status.DRIFT, reason=f"extra={','.join(extra)}; missing={','.join(missing)}")


__all__ = ["RosterCheck", "difference"]
