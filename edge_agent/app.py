"""The agent: one TaskGroup of named tasks (outbox writer, link, status, display, observability, drivers).

Shutdown (SIGTERM/SIGINT → ``stop``): the workers are cancelled first, so no new records arrive;
then the outbox writer is told to stop and commits everything already queued before it returns.
If any task fails, the TaskGroup cancels the rest; the writer still finishes its pending commits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine, Mapping
from typing import Any

from edge_agent.config import AgentConfig
from edge_agent.device_commands import DeviceCommands
from edge_agent.device_health import DeviceHealth
from edge_agent.display import DisplayRouter
from edge_agent.drivers.registry import build_drivers
from edge_agent.link import DEFAULT_HANDLERS, CommandRunner, Link
from edge_agent.link.commands import Handler
from edge_agent.observability import AgentSources, ObservabilityServer
from edge_agent.outbox import Outbox
from edge_agent.status import StatusReporter
from edge_agent.systemd_notify import Watchdog, stopping

log = logging.getLogger(__name__)


class Agent:
    def __init__(
        self, config: AgentConfig, *, command_handlers: Mapping[str, Handler] = DEFAULT_HANDLERS
    ) -> None:
        self.config = config
        self.health = DeviceHealth()
        self._command_handlers = command_handlers
        self.link: Link | None = None
        self.observability: ObservabilityServer | None = None
        self.watchdog = Watchdog.from_environment()

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then shut down cleanly."""
        outbox_config = self.config.outbox
        outbox = Outbox(
            outbox_config.path, max_bytes=outbox_config.max_bytes, lease_s=self.config.mqtt.ack_timeout_s
        )
        async with outbox:
            workers = self._workers(outbox)
            async with asyncio.TaskGroup() as group:
                group.create_task(outbox.run_writer(), name="outbox-writer")
                tasks = [group.create_task(coro, name=name) for name, coro in workers.items()]
                log.info("agent %s running with %d device(s)", self.config.agent_id, len(self.config.devices))
                await stop.wait()
                log.info("shutting down")
                stopping()
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
                outbox.stop_writer()

    def _workers(self, outbox: Outbox) -> dict[str, Coroutine[Any, Any, None]]:
        drivers = build_drivers(
            self.config.devices, sink=outbox, health=self.health, tombstones=outbox.tombstones
        )
        display = DisplayRouter(outbox, drivers.signs)
        status = StatusReporter(outbox, self.health, interval_s=self.config.status_interval_s)
        device_commands = DeviceCommands(drivers.runners, outbox).handlers()
        commands = CommandRunner(outbox, {**device_commands, **self._command_handlers})
        self.link = Link(self.config, outbox, display=display, commands=commands, status=status)
        workers: dict[str, Coroutine[Any, Any, None]] = {
            "link": self.link.run(),
            "status": status.run(self.link.publish_status, on_progress=self.watchdog.progress),
            "display": display.run(),
            "watchdog": self.watchdog.run(),
        }
        for name, driver in drivers.runners.items():
            workers[f"driver:{name}"] = driver.run()
        if self.config.observability.enabled:
            self.observability = self._observability_server(outbox, drivers.runners)
            workers["observability"] = self.observability.run()
        return workers

    def _observability_server(self, outbox: Outbox, drivers: Mapping[str, object]) -> ObservabilityServer:
        settings = self.config.observability
        sources = AgentSources(outbox, self.health, link=lambda: self.link, drivers=drivers)
        max_age_s = settings.ready_max_backlog_age_s
        host, port = settings.host, settings.port
        return ObservabilityServer(sources, host=host, port=port, max_backlog_age_s=max_age_s)


async def run_agent(config: AgentConfig) -> None:
    """Run the agent until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await Agent(config).run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
