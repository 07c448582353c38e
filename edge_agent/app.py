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
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from edge_agent.config import AgentConfig
from edge_agent.device_commands import DeviceCommands, adapt_drivers
from edge_agent.device_health import DeviceHealth
from edge_agent.display import DisplayRouter
from edge_agent.drivers.registry import Runnable
from edge_agent.link import DEFAULT_HANDLERS, CommandRunner, Link
from edge_agent.link.commands import Handler
from edge_agent.live_devices import LiveDevices
from edge_agent.outbox import Outbox, OutboxClosed
from edge_agent.roster_check import RosterCheck
from edge_agent.runtime_state import publish_runtime_state, runtime_state_path
from edge_agent.site_inventory import (
    APPLY_INVENTORY,
    InventoryRefused,
    load_saved,
    merged,
    parse_inventory,
    save,
)
from edge_agent.status import StatusReporter
from edge_agent.supervisor import Supervisor, TaskFactory
from edge_agent.systemd_notify import Watchdog, stopping
from firmware_protocols.sync import Command, CommandResult

if TYPE_CHECKING:  # imported when enabled: its HTTP stack (h11) is not loaded for nothing
    from edge_agent.observability import ObservabilityServer

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
        # The installer's devices (TOML) are pinned; the cloud's inventory adds the others.
        self.local_devices = list(config.devices)
        self.cloud_inventory = load_saved(config.outbox.path.parent)
        devices, self.device_sources = merged(self.local_devices, self.cloud_inventory)
        self.config = config.model_copy(update={"devices": devices})
        self.health = DeviceHealth()
        self.supervisor = Supervisor(fatal=FATAL)
        self._command_handlers = command_handlers
        self.link: Link | None = None
        self.observability: ObservabilityServer | None = None
        self.watchdog = Watchdog.from_environment()
        self._lan_servers: dict[str, LanServer] = {}
        self.devices: LiveDevices | None = None

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
                assert self.devices is not None
                self.devices.start(group)
                log.info("agent %s running with %d device(s)", self.config.agent_id, len(self.config.devices))
                await stop.wait()
                log.info("shutting down")
                stopping()
                for task in tasks:
                    task.cancel()
                await self.devices.stop()
                await asyncio.wait(tasks)
                outbox.stop_writer()

    def runtime_state(self) -> dict[str, object]:
        """What ``mpm-agent status`` shows beside the outbox: tasks and LAN listeners."""
        lan = {name: dict(server.lan_counters()) for name, server in self._lan_servers.items()}
        return {"tasks": self.supervisor.snapshot(), "lan": lan}

    def _workers(self, outbox: Outbox) -> dict[str, TaskFactory]:
        devices = self.devices = LiveDevices(
            sink=outbox,
            health=self.health,
            supervisor=self.supervisor,
            tombstones=outbox.tombstones,
            state_dir=self.config.outbox.path.parent,
            link_up=self._link_up,
        )
        devices.build(self.config.devices)
        display = DisplayRouter(outbox, devices.signs, on_delivery=devices.confirm_fresh)
        status = StatusReporter(outbox, self.health, interval_s=self.config.status_interval_s)
        device_commands = DeviceCommands(devices.runners, outbox)
        roster_check = RosterCheck(device_commands.devices)

        def devices_changed() -> None:
            display.show_again()
            device_commands.devices = roster_check.devices = adapt_drivers(devices.runners)

        devices.on_change = devices_changed
        handlers = {
            **device_commands.handlers(),
            **roster_check.handlers(),
            **self._command_handlers,
            APPLY_INVENTORY: self.apply_inventory,
        }
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
        for name, driver in devices.runners.items():
            if isinstance(driver, LanServer):
                self._lan_servers[name] = driver
        if self.config.observability.enabled:
            observability = self.observability = self._observability_server(outbox, devices.runners)
            workers["observability"] = observability.run
        return workers

    def _link_up(self) -> bool:
        return self.link is not None and self.link.connected.is_set()

    async def apply_inventory(self, command: Command) -> CommandResult:
        """``apply_inventory``: validate the cloud's inventory, then start and stop devices to match."""
        current = self.cloud_inventory.version if self.cloud_inventory else 0
        try:
            inventory = parse_inventory(command.args)
        except InventoryRefused as error:
            detail = f"refused; still running inventory version {current}: {error}"
            return CommandResult(cmd_id=command.cmd_id, ok=False, detail=detail)
        if inventory.version <= current:
            detail = f"version {inventory.version} is not newer than the applied version {current}"
            return CommandResult(cmd_id=command.cmd_id, ok=True, detail=detail)
        devices, sources = merged(self.local_devices, inventory)
        assert self.devices is not None
        try:
            started, stopped = await self.devices.replace(devices)
        except Exception as error:  # a driver that cannot even be constructed: back to what ran
            log.exception("inventory version %d could not be applied; restoring", inventory.version)
            await self.devices.replace(self.config.devices)
            detail = f"refused; still running inventory version {current}: {type(error).__name__}: {error}"
            return CommandResult(cmd_id=command.cmd_id, ok=False, detail=detail)
        save(self.config.outbox.path.parent, command.args)
        self.cloud_inventory, self.device_sources = inventory, sources
        self.config = self.config.model_copy(update={"devices": devices})
        pinned = [d.name for d in inventory.devices if sources[d.name] == "local"]
        detail = (
            f"applied inventory version {inventory.version}; started: {', '.join(started) or 'none'}; "
            f"stopped: {', '.join(stopped) or 'none'}; pinned locally: {', '.join(pinned) or 'none'}"
        )
        return CommandResult(cmd_id=command.cmd_id, ok=True, detail=detail)

    def _observability_server(self, outbox: Outbox, drivers: Mapping[str, Runnable]) -> ObservabilityServer:
        from edge_agent.observability import AgentSources, ObservabilityServer

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
