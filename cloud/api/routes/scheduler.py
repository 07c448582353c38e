"""The scheduler's run ledger: what ran (day and month closes, snapshots, retention), when, by whom."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy import select

from cloud.api.deps import PageDep, ReadSessionDep, Viewer
from cloud.api.lookups import page_of
from cloud.api.schemas import Out
from cloud.db.models import SchedulerRun

router = APIRouter(tags=["scheduler"])
JobName = Literal["day_close", "month_close", "ranking_snapshot", "retention"]


class SchedulerRunOut(Out):
    id: int
    job: str
    period: str
    status: str
    attempts: int
    due_at: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None
    worker: str
    detail: dict[str, Any]
    error: str | None


@router.get("/scheduler/runs")
async def list_runs(
    session: ReadSessionDep, principal: Viewer, page: PageDep, job: JobName | None = None
) -> list[SchedulerRunOut]:
    """The organisation's scheduled runs, newest first, optionally of one job."""
    query = select(SchedulerRun).where(SchedulerRun.org_id == principal.org_id)
    if job is not None:
        query = query.where(SchedulerRun.job == job)
    query = query.order_by(SchedulerRun.started_at.desc(), SchedulerRun.id.desc())
    return [SchedulerRunOut.model_validate(r) for r in await page_of(session, query, page)]
