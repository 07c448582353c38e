"""``/healthz`` (the process answers; what an operator must know at a glance) and ``/readyz`` (it can
do its work), for load balancers and installers.

Rule: ready means the database answers and, when MQTT is configured, ingest is subscribed at the
broker; otherwise 503 with the reasons, so ``curl -f`` fails and says why. ``/healthz`` says loudly
when the public development key protects the data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from cloud.settings import DEV_KEY_WARNING, CloudSettings

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])
    environment: str = Field(examples=["production"])
    dev_master_key: bool = Field(description="true: the public development key protects the data")
    warnings: list[str]


@router.get("/healthz")
async def healthz(request: Request) -> HealthOut:
    """The process answers; ``warnings`` says loudly when the public development key is in use."""
    settings: CloudSettings = request.app.state.settings
    dev_key = settings.uses_dev_key()
    return HealthOut(
        status="ok",
        environment=settings.environment,
        dev_master_key=dev_key,
        warnings=[DEV_KEY_WARNING] if dev_key else [],
    )


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
