"""``/healthz``, ``/readyz`` and ``/metrics`` of the running agent (see ``server.py``)."""

from edge_agent.observability.health import readiness
from edge_agent.observability.metrics import render_metrics
from edge_agent.observability.server import ObservabilityServer
from edge_agent.observability.snapshot import AgentSnapshot, AgentSources

__all__ = ["AgentSnapshot", "AgentSources", "ObservabilityServer", "readiness", "render_metrics"]
