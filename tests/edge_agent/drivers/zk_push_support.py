"""Shared by the zk_push driver tests: an in-memory sink with the outbox's dedup rule, a running driver."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Container, Sequence
from pathlib import Path

from edge_agent.device_health import DeviceHealth
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zk_push.driver import ZkPushDriver
from edge_agent.records import AcceptResult, DeviceRecord

SN = "SIM0001"


class MemorySink:
    """EventSink double: dedup on (device, dedup_key), like the outbox; can fail once after storing."""

    def __init__(self) -> None:
        self.events: list[DeviceRecord] = []
        self.submitted = 0
        self.fail_after_store = 0
        self._keys: set[tuple[str, str]] = set()

    async def accept(self, records: Sequence[DeviceRecord]) -> AcceptResult:
        self.submitted += len(records)
        stored = 0
        for record in records:
            key = (record.device, record.dedup_key or "")
            if record.dedup_key is not None and key in self._keys:
                continue
            self._keys.add(key)
            self.events.append(record)
            stored += 1
        if self.fail_after_store:
            self.fail_after_store -= 1
            raise OSError("simulated failure after commit (the reply is lost)")
        return AcceptResult(stored=stored, duplicates=len(records) - stored)


@dataclasses.dataclass
class Running:
    driver: ZkPushDriver
    sink: MemorySink
    health: DeviceHealth
    url: str


@contextlib.asynccontextmanager
async def running_driver(
    *,
    delay_s: int = 1,
    tombstones: Container[str] = frozenset(),
    state_dir: Path | None = None,
    sink: MemorySink | None = None,
    **overrides: object,
) -> AsyncIterator[Running]:
    values = {"kind": "zk_push", "name": "gate", "listen_host": "127.0.0.1", "listen_port": 0,
              "allowed_serials": (SN,), "delay_s": delay_s} | overrides  # fmt: skip
    config = ZkPushConfig.model_validate(values)
    sink, health = sink or MemorySink(), DeviceHealth()
    driver = ZkPushDriver(config, sink, health, tombstones=tombstones, state_dir=state_dir)
    task = asyncio.create_task(driver.run(), name="zk_push")
    try:
        port = await asyncio.wait_for(driver.port(), 10)
        yield Running(driver=driver, sink=sink, health=health, url=f"http://127.0.0.1:{port}")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
