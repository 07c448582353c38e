"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work), for load balancers and installers.

Rule: ready means the database answers and, when MQTT is configured, ingest is subscribed at the
broker; otherwise 503 with the reasons, so ``curl -f`` fails and says why.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process serves HTTP."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready; `problems` says why"}})
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and ingest (if configured) is subscribed."""
    problems: list[str] = []
    try:
        async with request.app.state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is "not ready", with its reason
        problems.append(f"database: {type(exc).__name__}: {exc}")
    worker: Any = request.app.state.worker
    if worker is not None and not worker.subscribed.is_set():
        problems.append("mqtt: ingest is not subscribed at the broker (yet)")
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready", "mqtt": "subscribed" if worker is not None else "off"})
