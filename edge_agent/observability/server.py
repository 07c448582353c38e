"""The health and metrics endpoints on the agent's small h11 server (loopback by default).

``GET /healthz`` 200 while the event loop answers; ``GET /readyz`` 200 or 503 with a JSON body
(``health.readiness``); ``GET /metrics`` Prometheus text. Anything else: 404, or 405 for a method
other than GET/HEAD. Every request takes a fresh snapshot: no caching, no background work. A port
that cannot be bound (a second agent, a stale process) is logged; punches keep flowing regardless.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from edge_agent.http import HttpLimits, HttpServer, Request, Response
from edge_agent.observability.health import readiness
from edge_agent.observability.metrics import CONTENT_TYPE, render_metrics
from edge_agent.observability.snapshot import AgentSnapshot

log = logging.getLogger(__name__)

JSON = "application/json"


class Sources(Protocol):
    async def snapshot(self) -> AgentSnapshot: ...


def _json(status: int, body: Mapping[str, object]) -> Response:
    return Response(status=status, body=json.dumps(body).encode() + b"\n", content_type=JSON)


class ObservabilityServer:
    def __init__(
        self, sources: Sources, *, host: str, port: int, max_backlog_age_s: float, agent_id: str = ""
    ) -> None:
        self._sources, self._max_age, self._host = sources, max_backlog_age_s, host
        self._agent_id = agent_id  # in /readyz, so `doctor` knows it asked this box's own service
        self._routes: Mapping[str, Callable[[], Awaitable[Response]]] = {
            "/healthz": self._healthz,
            "/readyz": self._readyz,
            "/metrics": self._metrics,
        }
        self.http = HttpServer(self._handle, host=host, port=port, limits=HttpLimits().within_descriptors())

    async def run(self) -> None:
        """Serve until cancelled; a port that cannot be bound is logged, never fatal to the agent."""
        try:
            await self.http.start()
        except OSError as error:
            log.error("health and metrics server not started on %s: %s", self._host, error)
            return
        log.info("health and metrics on http://%s:%d (/healthz /readyz /metrics)", self._host, self.http.port)
        await self.http.serve_forever()

    async def _handle(self, request: Request) -> Response:
        route = self._routes.get(request.path)
        if route is None:
            return _json(404, {"error": f"no such endpoint {request.path}"})
        if request.method not in ("GET", "HEAD"):
            return _json(405, {"error": "only GET"})
        return await route()

    async def _healthz(self) -> Response:
        return _json(200, {"status": "alive"})

    async def _readyz(self) -> Response:
        body = readiness(await self._sources.snapshot(), max_backlog_age_s=self._max_age)
        return _json(200 if body["ready"] else 503, {"agent_id": self._agent_id, **body})

    async def _metrics(self) -> Response:
        text = render_metrics(await self._sources.snapshot())
        return Response(body=text.encode(), content_type=CONTENT_TYPE)
