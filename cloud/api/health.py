"""``GET /healthz``: liveness plus what an operator must know at a glance (the development key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

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
