"""Agent driver for a Modbus LED points display: content in, register writes out, version confirmed.

Loop (``run``): wait until there is content the module does not show yet, or until ``poll_s`` passes
(then read the version back: a module that was power-cycled or replaced shows something else, so
everything is re-sent). A push writes the content blocks, then the version LAST, then reads the
version back; a mismatch or any bus error retries the whole push with backoff. The module is marked
down once after ``DOWN_AFTER`` failed pushes in a row and up once when a push or check succeeds.
Change-only: while the module reads back the version last confirmed, it still holds the register
image written then, so a push writes only the registers that differ (plus the version); after any
failure, or a version it did not get from us, the whole image is written again.
Brightness (``set_brightness``) is part of the image; the clock (``set_clock``) is written on its own.
A ``clock`` content without lines sets the face register to the module's own running clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Final

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.modbus_led.bus import BusError, ModbusBus, shared_bus
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from firmware_protocols.modbus_led import (
    PROFILES,
    DisplayedRow,
    Face,
    WriteBlock,
    coalesce,
    content_image,
    decode_unsigned,
    encode_clock,
    encode_content,
    encode_version,
)
from firmware_protocols.sync import SignContent

log = logging.getLogger(__name__)

DOWN_AFTER: Final = 2
LIVE_CLOCK: Final = "clock"
BACKOFF_S: Final = (0.2, 0.5, 1.0, 2.0, 5.0)


class DeviceError(Exception):
    """The module did not confirm the content."""


def sign_title(content: SignContent) -> str:
    return f"{content.title} {content.period}".strip()


def displayed_rows(content: SignContent) -> list[DisplayedRow]:
    """The module's row slots: ranking rows, or free text ``lines`` (when present) one per slot.

    The register map has no text-only row, so a line goes into the row text with rank 0 and
    points 0, the values the codec also writes into unused slots.
    """
    if content.lines:
        return [DisplayedRow(rank=0, name=line, points=0) for line in content.lines]
    return [DisplayedRow(rank=row.rank, name=row.name, points=row.points) for row in content.rows]


def face_of(content: SignContent) -> Face:
    return Face.CLOCK if content.kind == LIVE_CLOCK and not (content.lines or content.rows) else Face.ROWS


def registers_for(config: ModbusLedConfig, content: SignContent, brightness: int | None) -> dict[int, int]:
    """The module's content registers (address → value) for ``content``, without the version."""
    profile = PROFILES[config.profile]
    rows, title = displayed_rows(content), sign_title(content)
    face = face_of(content)
    return content_image(profile, rows, title=title, dwell_s=config.dwell_s, brightness=brightness, face=face)


def content_plan(config: ModbusLedConfig, content: SignContent, version: int) -> tuple[WriteBlock, ...]:
    """The write plan of ``content`` for ``config``'s profile, committing ``version``."""
    rows = displayed_rows(content)
    profile = PROFILES[config.profile]
    return encode_content(profile, rows, title=sign_title(content), version=version, dwell_s=config.dwell_s)


class ModbusLedDriver:
    def __init__(
        self, config: ModbusLedConfig, health: DeviceHealth, *, bus: ModbusBus | None = None
    ) -> None:
        self.config = config
        self.health = health
        self.profile = PROFILES[config.profile]
        self._bus = bus
        self._wanted: SignContent | None = None
        self._shown: SignContent | None = None
        self._version = 0
        self._image: dict[int, int] | None = None  # registers confirmed with self._version
        self._brightness: int | None = None
        self._clock_due: dt.datetime | None = None
        self._changed = asyncio.Event()
        health.register(config.name)

    @property
    def shown(self) -> SignContent | None:
        """The content the module confirmed last."""
        return self._shown

    async def show(self, content: SignContent) -> None:
        """Remember ``content``; ``run`` sends it when it differs from what the module shows."""
        self._wanted = content
        if content != self._shown:
            self._changed.set()

    async def set_brightness(self, level: int) -> None:
        """Drive the brightness register (0–15) with the next push."""
        self._brightness = level
        self._changed.set()

    async def set_clock(self, now: dt.datetime) -> None:
        """Set the module's clock to ``now`` (wall time of the site) at the next step."""
        self._clock_due = now
        self._changed.set()

    async def run(self) -> None:
        """Forever: keep the module showing the latest content."""
        failures = 0
        while True:
            if _cancel_swallowed():
                raise asyncio.CancelledError
            await self._wait_for_work()
            try:
                await self._sync()
            except (BusError, DeviceError) as exc:
                failures += 1
                self._count_failure(failures, exc)
                self._changed.set()
                await asyncio.sleep(BACKOFF_S[min(failures, len(BACKOFF_S)) - 1])
                continue
            failures = 0
            self.health.up(self.config.name)

    async def _wait_for_work(self) -> None:
        if self._changed.is_set():
            return
        try:
            async with asyncio.timeout(self.config.poll_s):
                await self._changed.wait()
        except TimeoutError:
            return

    async def _sync(self) -> None:
        self._changed.clear()
        if (clock := self._clock_due) is not None:
            block = encode_clock(self.profile, clock)
            await self._bus_for().write(self.config.unit, block.address, block.registers)
            self._clock_due = None
        wanted = self._wanted
        if wanted is None:
            await self._read_version()  # nothing to show yet: just check the module answers
        elif (
            wanted != self._shown
            or registers_for(self.config, wanted, self._brightness) != self._image
            or await self._read_version() != self._version
        ):
            await self._push(wanted)

    def _count_failure(self, failures: int, exc: Exception) -> None:
        self.health.count_error(self.config.name, str(exc))
        if failures >= DOWN_AFTER:
            self.health.down(self.config.name, str(exc))
        self._shown = self._image = None  # re-send everything once the module is back

    async def _push(self, content: SignContent) -> None:
        held = await self._read_version()
        version = (max(self._version, held) + 1) % self.profile.version_modulus or 1
        image = registers_for(self.config, content, self._brightness)
        if self._image is not None and held == self._version:
            image_changes = {a: v for a, v in image.items() if self._image.get(a) != v}
        else:
            image_changes = image
        self._image = None  # unknown until the version is confirmed
        plan = (*coalesce(image_changes), encode_version(self.profile, version))
        for block in plan:
            await self._bus_for().write(self.config.unit, block.address, block.registers)
        confirmed = await self._read_version()
        if confirmed != version:
            raise DeviceError(f"module reads version {confirmed}, wrote {version}")
        self._version, self._shown, self._image = version, content, image
        log.debug("%s shows version %d", self.config.name, version)

    async def _read_version(self) -> int:
        bus = self._bus_for()
        words = await bus.read(self.config.unit, self.profile.version, self.profile.version_registers)
        return decode_unsigned(words, self.profile.word_order)

    def _bus_for(self) -> ModbusBus:
        if self._bus is None:
            self._bus = shared_bus(self.config)
        return self._bus


def _cancel_swallowed() -> bool:
    """A cancellation of this task that a library turned into an I/O error (pymodbus can, when it
    lands inside a request): the task still counts it. Ending then, instead of looping on, is what
    lets the agent's shutdown (and a test's teardown) finish."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
