"""The running device drivers, changed while the agent runs: new ones started, removed ones stopped.

Each driver runs as a supervised task in the agent's task group, like at start-up; each sign driver
gets a ``SignProgramme`` in front of it (playlist, schedules, offline marker), run as a task of its
own and started and stopped with its driver, and ``signs`` maps to the programmes. ``replace`` stops
the drivers of devices that are gone or whose settings changed (their tasks are cancelled and
awaited, so a serial port is closed before a new driver opens it), then starts the new ones. The
``runners`` and ``signs`` mappings are shared with the display router and the command handlers,
which therefore see the change at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Container, Sequence
from pathlib import Path

from edge_agent.config import AnyDeviceConfig
from edge_agent.device_health import DeviceHealth
from edge_agent.display import Sign
from edge_agent.drivers.registry import Runnable, build_drivers
from edge_agent.records import EventSink
from edge_agent.signage.programme import SignProgramme
from edge_agent.signage.wiring import confirm_fresh, programmes
from edge_agent.supervisor import Supervisor

log = logging.getLogger(__name__)


class LiveDevices:
    def __init__(
        self,
        *,
        sink: EventSink,
        health: DeviceHealth,
        supervisor: Supervisor,
        tombstones: Container[str],
        state_dir: Path,
        on_change: Callable[[], None] = lambda: None,
        link_up: Callable[[], bool] = lambda: True,
    ) -> None:
        self.runners: dict[str, Runnable] = {}
        self.signs: dict[str, Sign] = {}
        self.programmes: dict[str, SignProgramme] = {}
        self._link_up = link_up
        self.configs: dict[str, AnyDeviceConfig] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._sink, self._health, self._supervisor = sink, health, supervisor
        self._tombstones, self._state_dir, self.on_change = tombstones, state_dir, on_change

    def build(self, configs: Sequence[AnyDeviceConfig]) -> None:
        """Construct the drivers of ``configs`` (not started yet)."""
        drivers = build_drivers(
            configs,
            sink=self._sink,
            health=self._health,
            tombstones=self._tombstones,
            state_dir=self._state_dir,
        )
        self.runners.update(drivers.runners)
        made = programmes(configs, drivers.signs, link_up=self._link_up)
        self.programmes.update(made)
        self.signs.update(made)
        self.configs.update({c.name: c for c in configs})

    def start(self, group: asyncio.TaskGroup) -> None:
        """Run every built driver not yet running in ``group``."""
        self._group = group
        tasks = {f"driver:{name}": runner.run for name, runner in self.runners.items()}
        tasks |= {f"programme:{name}": programme.run for name, programme in self.programmes.items()}
        for task_name, run in tasks.items():
            if task_name not in self._tasks:
                work = self._supervisor.supervise(task_name, run)
                self._tasks[task_name] = group.create_task(work, name=task_name)

    def confirm_fresh(self) -> None:
        """The cloud delivered display content: every sign's content is current again."""
        confirm_fresh(self.programmes)

    async def stop(self) -> None:
        """Cancel every driver task and wait for them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._tasks.clear()

    async def replace(self, configs: Sequence[AnyDeviceConfig]) -> tuple[list[str], list[str]]:
        """Run exactly ``configs``; the names (started, stopped)."""
        wanted = {c.name: c for c in configs}
        stopped = [n for n, c in self.configs.items() if wanted.get(n) != c]
        started = [n for n, c in wanted.items() if self.configs.get(n) != c]
        for name in stopped:
            await self._stop_one(name)
        self.build([wanted[n] for n in started])
        if self._group is not None:
            self.start(self._group)
        self.on_change()
        log.info("devices changed: started %s, stopped %s", started or "none", stopped or "none")
        return started, stopped

    async def _stop_one(self, name: str) -> None:
        tasks = [self._tasks.pop(f"{kind}:{name}", None) for kind in ("programme", "driver")]
        for task in filter(None, tasks):  # the programme first: it drives the sign
            task.cancel()
            await asyncio.wait([task])
        self.runners.pop(name, None)
        self.signs.pop(name, None)
        self.programmes.pop(name, None)
        self.configs.pop(name, None)
        for kind in ("programme", "driver"):
            self._supervisor.tasks.pop(f"{kind}:{name}", None)
        self._health.forget(name)
