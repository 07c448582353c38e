"""One router per area, all under ``/api/v1``."""

from fastapi import APIRouter

from cloud.api.problems import COMMON_RESPONSES
from cloud.api.routes import (
    agents,
    attendance,
    calendar,
    departments,
    displays,
    enrolment,
    fleet,
    inventory,
    ledger,
    members,
    org,
    org_deletion,
    points,
    rankings,
    roster,
    roster_requests,
    scheduler,
    sites,
    subject_access,
    tokens,
    workflow,
)

api_router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES)
# Routes are matched one after the other, at a few µs each: the hottest read (LED signs, dashboards
# polling rankings) goes first. No two routers share a path, so the order changes nothing else.
for _module in (
    rankings,
    org,
    org_deletion,
    tokens,
    sites,
    agents,
    departments,
    members,
    subject_access,
    points,
    ledger,
    displays,
    attendance,
    calendar,
    scheduler,
    enrolment,
    workflow,
    fleet,
    inventory,
    roster,
    roster_requests,
):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
