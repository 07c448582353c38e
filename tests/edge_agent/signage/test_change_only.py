"""Change-only updates: a one-rank change sends a fraction of a full rewrite, to the same sign state.

Bytes are counted where they land: the Alpha simulator counts every byte it reads off the pty, the
Modbus simulator every register written to it. The full rewrite is what a fresh sign gets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.alpha_sign.driver import AlphaSignDriver
from edge_agent.drivers.alpha_sign.render import row_text
from edge_agent.drivers.modbus_led.driver import ModbusLedDriver
from firmware_protocols.sync import SignContent
from simulators.alpha_sign import AlphaSignSimulator
from simulators.alpha_sign.link import PtyEndpoint
from tests.edge_agent.signage.support import alpha_config, modbus_config, ranking, running_task, until
from tests.simulators.modbus_sign.running import running_sign

CLOCK = dt.datetime(2026, 12, 3, 9, 5, tzinfo=dt.UTC)
BEFORE = ranking(90, 80, 70, 60, 50)
AFTER = ranking(90, 80, 71, 60, 50)  # one rank's points change
COLUMNS = 16  # alpha_config's
FACE_KEYS = ("showing", "files", "strings", "pictures")


def face(state: dict[str, Any]) -> dict[str, Any]:
    """What the Alpha sign holds and shows (memory contents, not counters or logs)."""
    return {key: state[key] for key in FACE_KEYS}


def lines_of(content: SignContent) -> list[str]:
    """What the Alpha sign shows for ``content``: the title, then every row (the last one sent last)."""
    return [content.title, *(row_text(row, COLUMNS) for row in content.rows)]


async def alpha_bytes_for(tmp: Path, name: str, *contents: SignContent) -> tuple[list[int], dict[str, Any]]:
    """Show ``contents`` in turn on a fresh sign: bytes it received once each was shown, its final face."""
    config = alpha_config(tmp, name=name)
    sim = AlphaSignSimulator(PtyEndpoint(Path(config.port))).start()
    counts: list[int] = []
    try:
        driver = AlphaSignDriver(config, DeviceHealth(), clock=lambda: CLOCK)
        async with running_task(driver.run, name):
            for content in contents:
                await driver.show(content)
                expected = lines_of(content)
                await until(lambda e=expected: sim.state()["showing"] == e, f"{name}: {expected}")  # type: ignore[misc]
                counts.append(sim.state()["counters"]["bytes_received"])
        return counts, face(sim.state())
    finally:
        sim.stop()


async def test_alpha_one_rank_change_sends_only_its_string(tmp_path: Path) -> None:
    counts, updated_face = await alpha_bytes_for(tmp_path, "updated", BEFORE, AFTER)
    (full,), fresh_face = await alpha_bytes_for(tmp_path, "fresh", AFTER)
    change_only = counts[1] - counts[0]
    assert 0 < change_only < full / 10, (change_only, full)
    assert updated_face == fresh_face  # the same sign state either way


async def test_modbus_one_rank_change_writes_only_its_registers(tmp_path: Path) -> None:
    with running_sign(tmp_path) as sim:
        assert sim.port is not None
        driver = ModbusLedDriver(modbus_config(sim.port), DeviceHealth())
        async with running_task(driver.run, "modbus"):
            await driver.show(BEFORE)
            await until(lambda: driver.shown == BEFORE, "first content confirmed")
            first = sim.state()["counters"]["registers_written"]
            await driver.show(AFTER)
            await until(lambda: driver.shown == AFTER, "one-rank change confirmed")
            updated = sim.state()
    with running_sign(tmp_path) as fresh_sim:
        assert fresh_sim.port is not None
        fresh = ModbusLedDriver(modbus_config(fresh_sim.port), DeviceHealth())
        async with running_task(fresh.run, "fresh"):
            await fresh.show(AFTER)
            await until(lambda: fresh.shown == AFTER, "full write confirmed")
            rewritten = fresh_sim.state()
    change_only = updated["counters"]["registers_written"] - first
    full = rewritten["counters"]["registers_written"]
    assert change_only == 1 + 2, (change_only, full)  # the low word of the row's points + the u32 version
    assert full > 100
    assert updated["showing"] == rewritten["showing"]
    assert updated["rows"] == rewritten["rows"]
