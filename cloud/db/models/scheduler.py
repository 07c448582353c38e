"""The scheduler's run ledger: one row per (job, organisation, period), claimed before the job runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db.base import Base, utc_now


class SchedulerRun(Base):
    """A job's run for one period; ``UNIQUE(job, org_id, period)`` lets exactly one worker run it.

    ``status`` is ``done`` or ``failed``; a failed run is retried (``attempts`` counts the tries).
    """

    __tablename__ = "scheduler_run"
    __table_args__ = (UniqueConstraint("job", "org_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[dt.datetime | None]
    worker: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))
