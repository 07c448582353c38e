"""The agent's composition root: builds the parts, runs them as supervised tasks, decides when to exit.

Every long-running part (link, status, display, watchdog, drivers, health server, runtime state) runs
under the ``Supervisor``: a failure is logged, counted, restarted with backoff and shown by ``mpm-agent
status`` and ``/metrics``; it never ends the agent. Only two things do: the outbox writer failing
(nothing could be stored durably any more) and a task hitting ``OutboxClosed``; the TaskGroup then
ends and systemd restarts the unit.

Shutdown (SIGTERM/SIGINT → ``stop``): the workers are cancelled first, so no new records arrive;
then the outbox writer is told to stop and commits everything already queued before it returns.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from edge_agent.config import AgentConfig
from edge_agent.device_commands import DeviceCommands
from edge_agent.device_health import DeviceHealth
from edge_agent.display import DisplayRouter
from edge_agent.drivers.registry import Runnable, build_drivers
from edge_agent.link import DEFAULT_HANDLERS, CommandRunner, Link
from edge_agent.link.commands import Handler
from edge_agent.observability import AgentSources, ObservabilityServer
from edge_agent.outbox import Outbox, OutboxClosed
from edge_agent.roster_check import RosterCheck
from edge_agent.runtime_state import publish_runtime_state, runtime_state_path
from edge_agent.status import StatusReporter
from edge_agent.supervisor import Supervisor, TaskFactory
from edge_agent.systemd_notify import Watchdog, stopping

log = logging.getLogger(__name__)

# Failures that mean the agent cannot do its job at all: they end it (systemd restarts the unit).
FATAL: tuple[type[BaseException], ...] = (OutboxClosed,)


@runtime_checkable
class LanServer(Protocol):
    def lan_counters(self) -> Mapping[str, int]:
        """Connections refused, deadlines passed, open connections, ... of its LAN listener."""
        ...


class Agent:
    def __init__(
        self, config: AgentConfig, *, command_handlers: Mapping[str, Handler] = DEFAULT_HANDLERS
    ) -> None:
        self.config = config
        self.health = DeviceHealth()
        self.supervisor = Supervisor(fatal=FATAL)
        self._command_handlers = command_handlers
        self.link: Link | None = None
        self.observability: ObservabilityServer | None = None
        self.watchdog = Watchdog.from_environment()
        self._lan_servers: dict[str, LanServer] = {}

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
                tasks = [
                    group.create_task(self.supervisor.supervise(name, factory), name=name)
                    for name, factory in workers.items()
                ]
                log.info("agent %s running with %d device(s)", self.config.agent_id, len(self.config.devices))
                await stop.wait()
                log.info("shutting down")
                stopping()
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
                outbox.stop_writer()

    def runtime_state(self) -> dict[str, object]:
        """What ``mpm-agent status`` shows beside the outbox: tasks and LAN listeners."""
        lan = {name: dict(server.lan_counters()) for name, server in self._lan_servers.items()}
        return {"tasks": self.supervisor.snapshot(), "lan": lan}

    def _workers(self, outbox: Outbox) -> dict[str, TaskFactory]:
        drivers = build_drivers(
            self.config.devices,
            sink=outbox,
            health=self.health,
            tombstones=outbox.tombstones,
            state_dir=self.config.outbox.path.parent,
        )
        display = DisplayRouter(outbox, drivers.signs)
        status = StatusReporter(outbox, self.health, interval_s=self.config.status_interval_s)
        device_commands = DeviceCommands(drivers.runners, outbox)
        roster_check = RosterCheck(device_commands.devices).handlers()
        handlers = {**device_commands.handlers(), **roster_check, **self._command_handlers}
        commands = CommandRunner(outbox, handlers)
        link = self.link = Link(self.config, outbox, display=display, commands=commands, status=status)
        state_path = runtime_state_path(self.config.outbox.path)
        workers: dict[str, TaskFactory] = {
            "link": link.run,
            "status": lambda: status.run(link.publish_status, on_progress=self.watchdog.progress),
            "display": display.run,
            "watchdog": self.watchdog.run,
            "runtime-state": lambda: publish_runtime_state(
                state_path, self.runtime_state, self.supervisor.changed
            ),
        }
        for name, driver in drivers.runners.items():
            workers[f"driver:{name}"] = driver.run
            if isinstance(driver, LanServer):
                self._lan_servers[name] = driver
        if self.config.observability.enabled:
            observability = self.observability = self._observability_server(outbox, drivers.runners)
            workers["observability"] = observability.run
        return workers

    def _observability_server(self, outbox: Outbox, drivers: Mapping[str, Runnable]) -> ObservabilityServer:
        settings = self.config.observability
        sources = AgentSources(
            outbox,
            self.health,
            link=lambda: self.link,
            drivers=drivers,
            runtime=self.runtime_state,
        )
        max_age_s = settings.ready_max_backlog_age_s
        host, port = settings.host, settings.port
        return ObservabilityServer(
            sources, host=host, port=port, max_backlog_age_s=max_age_s, agent_id=self.config.agent_id
        )


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
