"""One router per area, all under ``/api/v1``."""

from fastapi import APIRouter

from cloud.api.problems import COMMON_RESPONSES
from cloud.api.routes import (
    agents,
    attendance,
    departments,
    displays,
    enrolment,
    ledger,
    members,
    org,
    points,
    rankings,
    sites,
    subject_access,
    tokens,
    workflow,
)

api_router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES)
for _module in (
    org,
    tokens,
    sites,
    agents,
    departments,
    members,
    subject_access,
    points,
    ledger,
    rankings,
    displays,
    attendance,
    enrolment,
    workflow,
):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
