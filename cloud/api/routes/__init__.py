"""One router per area, all under ``/api/v1``."""

from fastapi import APIRouter

from cloud.api.routes import (
    agents,
    attendance,
    displays,
    enrolment,
    ledger,
    members,
    org,
    points,
    rankings,
    sites,
)

api_router = APIRouter(prefix="/api/v1")
for _module in (org, sites, agents, members, points, ledger, rankings, displays, attendance, enrolment):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
