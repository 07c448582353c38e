"""Cloud commands that act on the attached devices: ``user_upsert``, ``user_delete``, ``sync_time``.

Routing: every driver is wrapped, by its kind, in one adapter per device (a ZK ADMS listener serves
several terminals: one adapter each); kinds without an adapter (signs) take no part. A command runs
on every device at once (or on ``args.device`` only), each bounded by ``DEVICE_TIMEOUT_S``, and its
``cmd_result`` detail reports each device as JSON: ``{"devices": {"<name>": "<status>[: reason]"}}``.

Statuses: ``verified`` (done and read back), ``queued`` (ADMS: runs at the terminal's next poll,
which reports its own cmd_result), ``pending`` (the device is offline; for a delete the tombstone
deletes the user when it is back), ``unsupported`` (this kind cannot do it), ``failed``.
``ok`` is false when any device failed, or when the one device named cannot do it.

``user_delete`` (PRIVACY.md DEL-1/DEL-2) first writes the tombstone (durably), then deletes;
``user_upsert`` first lifts the tombstone of that PIN (the person was enrolled again on purpose).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

from firmware_protocols.sync import Command, CommandResult

log = logging.getLogger(__name__)

DEVICE_TIMEOUT_S: Final = 30.0
MAX_DETAIL_CHARS: Final = 2000  # CommandResult.detail
PIN_PATTERN: Final = re.compile(r"^[0-9A-Za-z_-]{1,24}$")
ZK_PRIVILEGES: Final = frozenset({0, 2, 6, 14})  # user, enroller, manager, administrator
MAX_NAME_CHARS: Final = 24

Handler = Callable[[Command], Awaitable[CommandResult]]


class Status(enum.StrEnum):
    VERIFIED = "verified"
    QUEUED = "queued"
    PENDING = "pending"
    UNSUPPORTED = "unsupported"
    FAILED = "failed"
    DRIFT = "drift"  # roster_check: the terminal's users differ from the cloud's (edge_agent/roster_check.py)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    status: Status
    reason: str = ""

    def text(self) -> str:
        return f"{self.status}: {self.reason}" if self.reason else str(self.status)


UNSUPPORTED: Final = Outcome(status=Status.UNSUPPORTED)


class BadArguments(ValueError):
    """The command's ``args`` are missing or malformed."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UserSpec:
    """A person as a terminal stores them: PIN, display name, card number, privilege."""

    pin: str
    name: str = ""
    card: int = 0
    privilege: int = 0

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> UserSpec:
        """Validate ``user_upsert`` args (``pin``, ``name``, optional ``card`` and ``privilege``)."""
        name = args.get("name", "")
        if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
            raise BadArguments(f"name must be text of at most {MAX_NAME_CHARS} characters")
        card, privilege = args.get("card", 0), args.get("privilege", 0)
        if type(card) is not int or not 0 <= card < 2**32:
            raise BadArguments("card must be an integer from 0 to 4294967295")
        if type(privilege) is not int or privilege not in ZK_PRIVILEGES:
            raise BadArguments(f"privilege must be one of {sorted(ZK_PRIVILEGES)}")
        return cls(pin=pin_arg(args), name=name, card=card, privilege=privilege)


def pin_arg(args: Mapping[str, Any]) -> str:
    pin = args.get("pin")
    if not isinstance(pin, str) or not PIN_PATTERN.match(pin):
        raise BadArguments(f"pin must match {PIN_PATTERN.pattern}")
    return pin


class DeviceAdapter(Protocol):
    """One device's part in the user and clock commands."""

    name: str

    async def upsert_user(self, user: UserSpec, cmd_id: str) -> Outcome: ...

    async def delete_user(self, pin: str, cmd_id: str) -> Outcome: ...

    async def sync_time(self) -> Outcome: ...


class TombstoneStore(Protocol):
    async def add_tombstone(self, pin: str) -> None: ...

    async def lift_tombstone(self, pin: str) -> None: ...


class DeviceCommands:
    """The device command handlers for ``CommandRunner``, over the configured drivers."""

    def __init__(self, drivers: Mapping[str, object], tombstones: TombstoneStore) -> None:
        self.devices = adapt_drivers(drivers)
        self._tombstones = tombstones

    def handlers(self) -> dict[str, Handler]:
        return {"user_upsert": self.user_upsert, "user_delete": self.user_delete, "sync_time": self.sync_time}

    async def user_upsert(self, command: Command) -> CommandResult:
        """Create or update a person on every terminal that stores users (or ``args.device``)."""
        try:
            user = UserSpec.from_args(command.args)
        except BadArguments as exc:
            return CommandResult(cmd_id=command.cmd_id, ok=False, detail=str(exc))
        await self._tombstones.lift_tombstone(user.pin)
        return await self._on_devices(command, lambda d: d.upsert_user(user, command.cmd_id))

    async def user_delete(self, command: Command) -> CommandResult:
        """Erase a person from every attached terminal, verified by reading back (DEL-1)."""
        try:
            pin = pin_arg(command.args)
        except BadArguments as exc:
            return CommandResult(cmd_id=command.cmd_id, ok=False, detail=str(exc))
        await self._tombstones.add_tombstone(pin)
        return await self._on_devices(command, lambda d: d.delete_user(pin, command.cmd_id))

    async def sync_time(self, command: Command) -> CommandResult:
        """Set every terminal's clock from the agent's."""
        return await self._on_devices(command, lambda d: d.sync_time())

    async def _on_devices(
        self, command: Command, action: Callable[[DeviceAdapter], Awaitable[Outcome]]
    ) -> CommandResult:
        target = command.args.get("device")
        if target is not None and target not in self.devices:
            return CommandResult(cmd_id=command.cmd_id, ok=False, detail=f"unknown device {target!r}")
        chosen = [d for name, d in self.devices.items() if target is None or name == target]
        outcomes = await asyncio.gather(*(_bounded(action, device) for device in chosen))
        results = dict(zip((d.name for d in chosen), outcomes, strict=True))
        if target is not None and results[target].status is Status.UNSUPPORTED:
            results[target] = Outcome(status=Status.FAILED, reason=f"{command.type} is not supported here")
        ok = all(o.status is not Status.FAILED for o in results.values())
        return CommandResult(cmd_id=command.cmd_id, ok=ok, detail=detail_json(results))


async def _bounded(action: Callable[[DeviceAdapter], Awaitable[Outcome]], device: DeviceAdapter) -> Outcome:
    """Run ``action`` on one device; any failure or timeout becomes a ``failed`` outcome."""
    try:
        async with asyncio.timeout(DEVICE_TIMEOUT_S):
            return await action(device)
    except Exception as exc:
        log.warning("device %s: command failed: %s", device.name, exc)
        return Outcome(status=Status.FAILED, reason=str(exc) or type(exc).__name__)


def detail_json(results: Mapping[str, Outcome]) -> str:
    """The per-device report; past the detail limit, only the devices not verified are listed."""
    text = _dump({name: o.text() for name, o in sorted(results.items())})
    if len(text) <= MAX_DETAIL_CHARS:
        return text
    unverified = {n: o.text()[:80] for n, o in sorted(results.items()) if o.status is not Status.VERIFIED}
    verified = len(results) - len(unverified)
    text = _dump(unverified, verified_count=verified)
    while len(text) > MAX_DETAIL_CHARS and unverified:
        unverified.popitem()
        text = _dump(unverified, verified_count=verified, truncated=True)
    return text


def _dump(devices: Mapping[str, str], **extra: object) -> str:
    return json.dumps({"devices": devices, **extra}, ensure_ascii=False, sort_keys=True)


# -- adapters by driver kind ------------------------------------------------------------------


def adapt_drivers(drivers: Mapping[str, object]) -> dict[str, DeviceAdapter]:
    """One adapter per device of every driver whose kind is in ``ADAPTERS``."""
    devices: dict[str, DeviceAdapter] = {}
    for driver in drivers.values():
        config = getattr(driver, "config", None)
        make = ADAPTERS.get(getattr(config, "kind", ""))
        for adapter in make(driver) if make else ():
            devices[adapter.name] = adapter
    return devices


class ZkTerminalAdapter:
    """ZK 4370: through the driver's live session; every change read back."""

    def __init__(self, driver: Any) -> None:
        self.driver, self.name = driver, str(driver.config.name)

    async def upsert_user(self, user: UserSpec, cmd_id: str) -> Outcome:
        if not self.driver.online:
            return Outcome(status=Status.PENDING, reason="terminal offline")
        fields = dataclasses.asdict(user)
        return _verified(await self.driver.upsert_user(**fields), "read-back differs")

    async def delete_user(self, pin: str, cmd_id: str) -> Outcome:
        if not self.driver.online:
            return Outcome(status=Status.PENDING, reason="terminal offline; deleted on reconnect")
        return _verified(await self.driver.remove_user(pin), "read-back still has the user")

    async def sync_time(self) -> Outcome:
        if not self.driver.online:
            return Outcome(status=Status.PENDING, reason="terminal offline; set on reconnect")
        return _verified(await self.driver.sync_clock(), "clock reads back wrong")


class IsapiFaceAdapter:
    """Hikvision ISAPI: record or delete, then search back; faces are enrolled at the terminal.

    ``UserInfo`` here carries PIN and name only: a card number or privilege is not written.
    """

    def __init__(self, driver: Any) -> None:
        self.driver, self.name = driver, str(driver.config.name)

    async def upsert_user(self, user: UserSpec, cmd_id: str) -> Outcome:
        done = await self.driver.upsert_user(user.pin, user.name)
        return _verified(done, "terminal unreachable or read-back differs")

    async def delete_user(self, pin: str, cmd_id: str) -> Outcome:
        return _verified(await self.driver.delete_user(pin), "terminal unreachable or still has the user")

    async def sync_time(self) -> Outcome:
        return UNSUPPORTED


class ZkPushTerminalAdapter:
    """ZK ADMS: commands wait for the terminal's next poll; it reports its own result later."""

    def __init__(self, driver: Any, sn: str) -> None:
        self.driver, self.sn, self.name = driver, sn, str(driver.config.device_name(sn))

    async def upsert_user(self, user: UserSpec, cmd_id: str) -> Outcome:
        from firmware_protocols import zk_push  # only with a zk_push device (its driver imported it)

        entry = zk_push.UserEntry(
            pin=user.pin, name=user.name, privilege=str(user.privilege), card=str(user.card or "")
        )
        await self.driver.queue_command(self.sn, zk_push.UpdateUser(user=entry), cmd_id=cmd_id)
        return Outcome(status=Status.QUEUED)

    async def delete_user(self, pin: str, cmd_id: str) -> Outcome:
        from firmware_protocols import zk_push

        await self.driver.queue_command(self.sn, zk_push.DeleteUser(pin=pin), cmd_id=cmd_id)
        return Outcome(status=Status.QUEUED)

    async def sync_time(self) -> Outcome:
        return UNSUPPORTED  # the ADMS command set here has no clock command


def _zk_push_terminals(driver: Any) -> list[DeviceAdapter]:
    return [ZkPushTerminalAdapter(driver, sn) for sn in driver.config.allowed_serials]


ADAPTERS: Final[Mapping[str, Callable[[Any], list[DeviceAdapter]]]] = {
    "zkteco": lambda driver: [ZkTerminalAdapter(driver)],
    "isapi_face": lambda driver: [IsapiFaceAdapter(driver)],
    "zk_push": _zk_push_terminals,
}


def _verified(done: bool, failure: str) -> Outcome:
    return Outcome(status=Status.VERIFIED) if done else Outcome(status=Status.FAILED, reason=failure)


__all__ = ["DeviceCommands", "Outcome", "Status", "UserSpec"]
