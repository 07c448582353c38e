"""``/metrics`` in the Prometheus text format (version 0.0.4), built from one ``AgentSnapshot``.

Every metric is a row of ``METRICS``: name, type, help, and how to read its samples from a snapshot.
A metric with no samples (say, no drivers that count pictures) is left out entirely.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Literal

from edge_agent.observability.snapshot import AgentSnapshot
from edge_agent.status import agent_version

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, float]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Metric:
    name: str
    kind: Literal["gauge", "counter"]
    help: str
    samples: Callable[[AgentSnapshot], Iterable[Sample]]


def _one(value: float | None) -> list[Sample]:
    return [] if value is None else [((), float(value))]


def _per_device(values: Mapping[str, float]) -> list[Sample]:
    return [((("device", name),), float(value)) for name, value in sorted(values.items())]


def _outbox(read: Callable[[AgentSnapshot], float | None]) -> Callable[[AgentSnapshot], list[Sample]]:
    return lambda s: _one(None if s.outbox is None else read(s))


def _link(counter: str) -> Callable[[AgentSnapshot], list[Sample]]:
    return lambda s: _one(s.link_counters.get(counter))


LAN_EVENTS: Final = (
    "accepted", "refused_global", "refused_per_address", "head_deadline", "body_deadline", "send_deadline",
    "too_large", "budget_exhausted", "bad_request", "wrong_address",
)  # fmt: skip


def _lan(snapshot: AgentSnapshot, names: Iterable[str]) -> list[Sample]:
    """One sample per (listener, counter); ``open`` gets the listener label alone."""
    samples: list[Sample] = []
    for listener, counters in sorted(snapshot.lan_counters.items()):
        for name in names:
            labels: Labels = (
                (("listener", listener),) if name == "open" else (("listener", listener), ("event", name))
            )
            samples.append((labels, float(counters.get(name, 0))))
    return samples


METRICS: Final[tuple[Metric, ...]] = (
    Metric(name="mpm_agent_info", kind="gauge", help="Agent version (value is always 1).",
           samples=lambda s: [((("version", agent_version()),), 1.0)]),
    Metric(name="mpm_outbox_database_ok", kind="gauge", help="1 when the outbox database answers.",
           samples=lambda s: _one(s.outbox is not None)),
    Metric(name="mpm_outbox_backlog_rows", kind="gauge", help="Events waiting for the cloud's ack.",
           samples=_outbox(lambda s: s.outbox.backlog_rows if s.outbox else None)),
    Metric(name="mpm_outbox_bytes", kind="gauge", help="Outbox database plus WAL size in bytes.",
           samples=_outbox(lambda s: s.outbox.bytes if s.outbox else None)),
    Metric(name="mpm_outbox_oldest_unacked_age_seconds", kind="gauge",
           help="Age of the oldest event not yet acked by the cloud (0 when empty).",
           samples=_outbox(lambda s: (s.outbox.oldest_unacked_age_s or 0.0) if s.outbox else None)),
    Metric(name="mpm_outbox_dropped_total", kind="counter", help="Events shed because the outbox was full.",
           samples=_outbox(lambda s: s.outbox.dropped_total if s.outbox else None)),
    Metric(name="mpm_outbox_full", kind="gauge", help="1 while the outbox is at its size cap.",
           samples=_outbox(lambda s: s.outbox.full if s.outbox else None)),
    Metric(name="mpm_link_connected", kind="gauge", help="1 while the MQTT link to the cloud is up.",
           samples=lambda s: _one(s.link_connected)),
    Metric(name="mpm_link_batches_sent_total", kind="counter", help="Event batches published.",
           samples=_link("batches_sent")),
    Metric(name="mpm_link_batches_acked_total", kind="counter", help="Event batches acked by the cloud.",
           samples=_link("batches_acked")),
    Metric(name="mpm_link_batches_resent_total", kind="counter",
           help="Batches not acked in time, whose events were sent again.", samples=_link("batches_resent")),
    Metric(name="mpm_link_bad_payloads_total", kind="counter",
           help="Cloud messages dropped as malformed or holding unrepresentable values.",
           samples=_link("bad_payloads")),
    Metric(name="mpm_link_failed_messages_total", kind="counter",
           help="Valid cloud messages dropped because handling them failed.",
           samples=_link("failed_messages")),
    Metric(name="mpm_link_sessions_total", kind="counter", help="MQTT sessions established.",
           samples=_link("sessions")),
    Metric(name="mpm_device_up", kind="gauge", help="1 when the device is up, 0 when down or not yet seen.",
           samples=lambda s: _per_device({d: state == "up" for d, state in s.devices.items()})),
    Metric(name="mpm_device_errors_total", kind="counter",
           help="Protocol faults survived per device (garbage, bad checksum, timeout).",
           samples=lambda s: _per_device(s.device_errors)),
    Metric(name="mpm_task_restarts_total", kind="counter",
           help="Restarts of a supervised task after it failed (STYLE.md 16), per task.",
           samples=lambda s: [((("task", n),), float(v)) for n, v in sorted(s.task_restarts.items())]),
    Metric(name="mpm_lan_connections_open", kind="gauge", help="LAN connections open now, per listener.",
           samples=lambda s: _lan(s, ("open",))),
    Metric(name="mpm_lan_events_total", kind="counter",
           help="LAN listener events: accepted, refused (global, per address), deadlines, 403s, ...",
           samples=lambda s: _lan(s, LAN_EVENTS)),
    Metric(name="mpm_pictures_dropped_total", kind="counter",
           help="Pictures discarded unread (PRIVACY.md BIO-2), per device.",
           samples=lambda s: _per_device(s.pictures_dropped)),
)  # fmt: skip


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample_line(name: str, labels: Labels, value: float) -> str:
    text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
    number = str(int(value)) if value.is_integer() else repr(value)
    return f"{name}{{{text}}} {number}" if text else f"{name} {number}"


def render_metrics(snapshot: AgentSnapshot, metrics: Iterable[Metric] = METRICS) -> str:
    """The exposition text: ``# HELP``/``# TYPE`` then the samples of every metric that has any."""
    lines: list[str] = []
    for metric in metrics:
        samples = list(metric.samples(snapshot))
        if not samples:
            continue
        lines += [f"# HELP {metric.name} {metric.help}", f"# TYPE {metric.name} {metric.kind}"]
        lines += [_sample_line(metric.name, labels, value) for labels, value in samples]
    return "\n".join(lines) + "\n"
