"""Cloud commands (``down/cmd``): drop expired and already-seen ones, run the rest from a table.

A command's identity is its ``cmd_id``. Its result is stored through the outbox with the dedup key
``cmd:{cmd_id}`` on the agent's own device name, so that key is also the persisted record of "this
command was processed": a redelivered command finds it and is not run again.

The table here holds what needs no device (``ping``); the agent adds the device commands
(``user_upsert``, ``user_delete``, ``sync_time``) from ``edge_agent/device_commands.py``, which
knows the configured drivers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from edge_agent.outbox import AGENT_DEVICE, Outbox
from edge_agent.records import DeviceRecord
from firmware_protocols.sync import Command, CommandResult, EventKind, decode_command

log = logging.getLogger(__name__)

Handler = Callable[[Command], Awaitable[CommandResult]]
MAX_DETAIL_CHARS: Final = 2000  # CommandResult.from_data's bound: a longer result would be quarantined


async def _ping(command: Command) -> CommandResult:
    return CommandResult(cmd_id=command.cmd_id, ok=True, detail="pong")


DEFAULT_HANDLERS: Final[Mapping[str, Handler]] = {"ping": _ping}


def command_key(cmd_id: str) -> str:
    return f"cmd:{cmd_id}"


class CommandRunner:
    def __init__(self, outbox: Outbox, handlers: Mapping[str, Handler] = DEFAULT_HANDLERS) -> None:
        self._outbox, self._handlers = outbox, handlers
        self.executed = 0
        self.expired = 0
        self.duplicates = 0

    async def handle(self, payload: bytes) -> None:
        """Decode (SyncProtocolError on a bad payload), filter, run, and store the result."""
        command = decode_command(payload)
        now = dt.datetime.now(dt.UTC)
        if command.expires_at <= now:
            self.expired += 1
            log.info(
                "command %s (%s) expired at %s; dropped", command.cmd_id, command.type, command.expires_at
            )
            return
        if await self._outbox.is_known(AGENT_DEVICE, command_key(command.cmd_id)):
            self.duplicates += 1
            log.info("command %s already processed; dropped", command.cmd_id)
            return
        result = await self._execute(command)
        self.executed += 1
        await self._outbox.accept([_result_record(result, now)])

    async def _execute(self, command: Command) -> CommandResult:
        handler = self._handlers.get(command.type)
        if handler is None:
            return CommandResult(
                cmd_id=command.cmd_id, ok=False, detail=f"unknown command type {command.type!r}"
            )
        try:
            result = await handler(command)
        except Exception as exc:
            log.exception("command %s (%s) failed", command.cmd_id, command.type)
            result = CommandResult(cmd_id=command.cmd_id, ok=False, detail=f"{exc.__class__.__name__}: {exc}")
        return dataclasses.replace(result, detail=_storable(result.detail))


def _storable(detail: str) -> str:
    """``detail`` as the cloud's decoder takes it: at most ``MAX_DETAIL_CHARS``, UTF-8 encodable."""
    return detail.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_DETAIL_CHARS]


def _result_record(result: CommandResult, now: dt.datetime) -> DeviceRecord:
    return DeviceRecord(
        kind=EventKind.CMD_RESULT,
        device=AGENT_DEVICE,
        occurred_at=now,
        device_time=now.isoformat(),
        data=result.to_data(),
        dedup_key=command_key(result.cmd_id),
    )
