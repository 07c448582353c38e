"""What ``/readyz`` and ``/metrics`` read: one snapshot of the running agent, taken per request.

The sources are the agent's own objects (outbox, device health, link, drivers); nothing here keeps
state of its own. A failing outbox read is a finding (``database_error``), never an exception.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from edge_agent.device_health import DeviceHealth, DeviceState
from edge_agent.outbox import Outbox, OutboxStats


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentSnapshot:
    outbox: OutboxStats | None  # None when the database could not be read
    database_error: str | None
    link_connected: bool
    link_counters: Mapping[str, int]  # batches_sent, batches_resent, ... (see LINK_COUNTERS)
    devices: Mapping[str, DeviceState]
    device_errors: Mapping[str, int]
    pictures_dropped: Mapping[str, int]  # only drivers that count them
    task_restarts: Mapping[str, int] = dataclasses.field(default_factory=dict)  # supervised tasks
    lan_counters: Mapping[str, Mapping[str, int]] = dataclasses.field(default_factory=dict)  # per listener


# metric suffix -> (object path on the Link, attribute); absent attributes are simply not reported.
LINK_COUNTERS: Mapping[str, tuple[str, str]] = {
    "batches_sent": ("sender", "batches_sent"),
    "batches_acked": ("sender", "batches_acked"),
    "batches_resent": ("sender", "ack_timeouts"),  # a batch not acked in time is sent again
    "bad_payloads": ("link", "bad_payloads"),
    "failed_messages": ("link", "failed_messages"),
    "sessions": ("link", "sessions"),
}


def _link_counters(link: object | None) -> dict[str, int]:
    if link is None:
        return {}
    owners = {"link": link, "sender": getattr(link, "sender", None)}
    counters = {}
    for name, (owner, attribute) in LINK_COUNTERS.items():
        value = getattr(owners[owner], attribute, None)
        if isinstance(value, int):
            counters[name] = value
    return counters


def _link_connected(link: object | None) -> bool:
    event = getattr(link, "connected", None)
    return bool(event is not None and event.is_set())


def pictures_dropped_by(driver: object) -> int | None:
    """A driver's ``metrics.pictures_dropped`` (attribute or mapping key), when it counts them."""
    metrics = getattr(driver, "metrics", None)
    value = metrics.get("pictures_dropped") if isinstance(metrics, Mapping) else None
    if value is None:
        value = getattr(metrics, "pictures_dropped", None)
    return value if isinstance(value, int) else None


def _runtime_counters(state: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """``task_restarts`` and ``lan_counters`` from the agent's runtime state."""
    tasks = state.get("tasks", {})
    lan = state.get("lan", {})
    restarts = {
        name: int(record.get("restarts", 0))
        for name, record in (tasks.items() if isinstance(tasks, Mapping) else ())
        if isinstance(record, Mapping)
    }
    return {"task_restarts": restarts, "lan_counters": dict(lan) if isinstance(lan, Mapping) else {}}


class AgentSources:
    """Reads the running agent; ``link`` is a callable because the link is built after the server."""

    def __init__(
        self,
        outbox: Outbox,
        health: DeviceHealth,
        *,
        link: Callable[[], object | None] = lambda: None,
        drivers: Mapping[str, object] | None = None,
        runtime: Callable[[], Mapping[str, object]] = dict,
    ) -> None:
        self._outbox, self._health, self._link = outbox, health, link
        self._drivers = drivers or {}
        self._runtime = runtime  # the agent's ``runtime_state()``: supervised tasks, LAN listeners

    async def snapshot(self) -> AgentSnapshot:
        """The agent as of now."""
        stats: OutboxStats | None = None
        error: str | None = None
        try:
            stats = await self._outbox.stats()
        except Exception as exc:  # any failure to read the outbox means "database not OK"
            error = f"{type(exc).__name__}: {exc}"
        link = self._link()
        dropped = {name: pictures_dropped_by(driver) for name, driver in self._drivers.items()}
        return AgentSnapshot(
            outbox=stats,
            database_error=error,
            link_connected=_link_connected(link),
            link_counters=_link_counters(link),
            devices=self._health.snapshot(),
            device_errors=self._health.error_counts(),
            pictures_dropped={name: count for name, count in dropped.items() if count is not None},
            **_runtime_counters(self._runtime()),
        )
