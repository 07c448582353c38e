"""The Alpha sign driver: keeps one serial sign showing the latest SignContent, through unplugs.

Session: open the port → memory configuration (the sign resets; wait) → set time, date and day of
week from the agent clock → send everything wanted → then only what changes. A reader watches the
line so an unplug is noticed even while idle. On any transport failure or timeout the device is
marked down once, the port closed, and reopened with exponential backoff; a new session re-sends
everything. ``show`` never raises for a dead port: the content is kept and sent on reconnect.
Every exchange holds the line's lock and runs inside ``timeout_s``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.alpha_sign.render import AlphaFiles, Geometry, changes, memory_configuration, render
from edge_agent.transport.base import ByteStream, TransportError
from edge_agent.transport.serial import open_serial
from firmware_protocols.alpha_sign import Command, Packet, SetDate, SetDayOfWeek, SetTime, encode_packet
from firmware_protocols.alpha_sign.constants import STX
from firmware_protocols.sync import SignContent

FIRST_BACKOFF_S = 0.2
# Nested commands per packet: one pause after STX per packet; small enough that a packet at 9600 baud
# stays well inside timeout_s and a sign's receive buffer.
COMMANDS_PER_PACKET = 8


class DeviceError(Exception):
    """The sign could not be reached or did not take a write in time."""


def local_now() -> dt.datetime:
    """The agent's clock in its local zone (what a sign on the wall should show)."""
    return dt.datetime.now(dt.UTC).astimezone()


def clock_commands(now: dt.datetime) -> list[Command]:
    """Set time, date and day of week (1 = Sunday) to ``now``."""
    day_of_week = now.isoweekday() % 7 + 1
    return [
        SetTime(hour=now.hour, minute=now.minute),
        SetDate(month=now.month, day=now.day, year=now.year % 100),
        SetDayOfWeek(day=day_of_week),
    ]


class AlphaSignDriver:
    def __init__(
        self, config: AlphaSignConfig, health: DeviceHealth, *, clock: Callable[[], dt.datetime] = local_now
    ) -> None:
        self._config = config
        self._health = health
        self._clock = self._agent_clock = clock
        self._geometry = Geometry(columns=config.columns, rows=config.rows)
        self._lock = asyncio.Lock()  # one lock per serial line
        self._stream: ByteStream | None = None
        self._wanted: AlphaFiles | None = None
        self._sent: AlphaFiles | None = None
        health.register(config.name)

    @property
    def name(self) -> str:
        return self._config.name

    async def run(self) -> None:
        """Forever: open, prepare, send, watch; on failure mark down, back off, reopen."""
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                stream = await self._open()
            except TransportError as exc:
                self._health.down(self.name, str(exc))
            else:
                backoff = await self._session(stream, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._config.reconnect_max_s)

    async def set_clock(self, now: dt.datetime) -> None:
        """Set the sign's clock to ``now`` (site-local) and keep ``now``'s zone for later sessions."""
        zone, agent_clock = now.tzinfo, self._agent_clock
        self._clock = lambda: agent_clock().astimezone(zone)
        async with self._lock:
            stream = self._stream
            if stream is None:
                return  # the next session sets it
            try:
                await self._send(stream, clock_commands(now))
            except DeviceError as exc:
                self._health.down(self.name, str(exc))
                await stream.aclose()

    async def show(self, content: SignContent) -> None:
        """Make the sign show ``content``: send only what changed, or keep it for the next session."""
        self._wanted = render(content, self._geometry)
        async with self._lock:
            stream = self._stream
            if stream is None:
                return
            try:
                await self._send_changes(stream)
            except DeviceError as exc:
                self._health.down(self.name, str(exc))  # the real reason, before the reader's "line lost"
                await stream.aclose()  # wakes the session's reader, which ends the session

    # --- one session ----------------------------------------------------------------------

    async def _session(self, stream: ByteStream, backoff: float) -> float:
        """Prepare and serve one opened port until it fails; returns the next backoff."""
        try:
            async with self._lock:
                await self._prepare(stream)
                self._stream = stream
            self._health.up(self.name)
            backoff = FIRST_BACKOFF_S
            await self._watch(stream)
        except DeviceError as exc:
            self._health.down(self.name, str(exc))
        finally:
            self._stream = None
            await stream.aclose()
        return backoff

    async def _prepare(self, stream: ByteStream) -> None:
        self._sent = None
        await self._send(stream, [memory_configuration(self._geometry)])
        await asyncio.sleep(self._config.reset_pause_s)  # the sign resets after E$
        await self._send(stream, clock_commands(self._clock()))
        await self._send_changes(stream)

    async def _watch(self, stream: ByteStream) -> None:
        """Read what the sign says; returns only by raising when the line fails.

        The driver asks the sign nothing, so whatever arrives is line noise or a confused sign:
        dropped, and counted as a survived fault.
        """
        while True:
            try:
                data = await stream.read()
            except TransportError as exc:
                raise DeviceError(f"line lost: {exc}") from exc
            self._health.count_error(self.name, f"{len(data)} unexpected bytes from the sign")

    async def _send_changes(self, stream: ByteStream) -> None:
        if self._wanted is None:
            return
        await self._send(stream, changes(self._sent, self._wanted))
        self._sent = self._wanted

    async def _send(self, stream: ByteStream, commands: list[Command]) -> None:
        """The changes as nested commands, a few per packet, pausing once after each packet's STX.

        The pause after STX is per packet, not per command, so nesting is what keeps a one-rank
        change to one pause (time to display); each packet is written inside ``timeout_s``.
        """
        address = self._config.address.upper()
        for start in range(0, len(commands), COMMANDS_PER_PACKET):
            nested = tuple(commands[start : start + COMMANDS_PER_PACKET])
            wire = encode_packet(Packet(commands=nested, address=address, checksum=True))
            head, tail = wire.split(bytes([STX]), 1)
            try:
                async with asyncio.timeout(self._config.timeout_s):
                    await stream.write(head + bytes([STX]))
                    await asyncio.sleep(self._config.stx_pause_s)
                    await stream.write(tail)
            except (TransportError, TimeoutError) as exc:
                raise DeviceError(f"write failed: {str(exc) or 'timeout'}") from exc

    async def _open(self) -> ByteStream:
        c = self._config
        return await open_serial(
            c.port, baudrate=c.baudrate, bytesize=c.bytesize, parity=c.parity, stopbits=c.stopbits
        )
