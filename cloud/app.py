"""The FastAPI app factory; the lifespan owns the database engine, the background tasks (on SQLite
the WAL checkpointer) and, with MQTT on, the ingest worker and the display publisher (named tasks,
cancelled on shutdown)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from fastapi import FastAPI

from cloud import dashboard
from cloud.api import docs_assets, health, problems
from cloud.api.deps import Principal
from cloud.api.principal_cache import PrincipalCache
from cloud.api.ranking_cache import RankingCache, RankingReads
from cloud.api.routes import api_router
from cloud.db.migrate import upgrade_head
from cloud.db.session import create_engine, read_only_engine, session_factory
from cloud.db.wal_checkpoints import CheckpointStats, checkpoint_periodically, database_file
from cloud.displays.publisher import DisplayPublisher
from cloud.domain.ranking_version import open_stamp_reader
from cloud.fleet import FleetAlerts
from cloud.ingest.worker import IngestWorker
from cloud.roster.upkeep import upkeep
from cloud.scheduling import CloudScheduler
from cloud.settings import CloudSettings
from cloud.startup_report import log_startup

log = logging.getLogger(__name__)


def create_app(settings: CloudSettings) -> FastAPI:
    """The cloud service for ``settings``; nothing is connected until the lifespan starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        master = settings.master()  # production without MPM_MASTER_KEY: MasterKeyMissing, no start
        log_startup(settings, os.environ, log)
        engine = create_engine(settings.database_url)
        await upgrade_head(engine)
        app.state.settings = settings
        app.state.sessions = sessions = session_factory(engine)
        reader = read_only_engine(engine)
        app.state.read_sessions = read_sessions = session_factory(reader)
        app.state.principals = PrincipalCache[Principal]()
        stamps = await open_stamp_reader(engine, read_sessions)
        app.state.rankings = RankingReads(cache=RankingCache(), stamps=stamps, sessions=read_sessions)
        app.state.master_key = master
        app.state.publisher = app.state.worker = None
        app.state.fleet_alerts = alerts = FleetAlerts(sessions)
        tasks: list[asyncio.Task[None]] = [_start(alerts.run(), "fleet-alerts")]
        app.state.wal_checkpoints = checkpoints = CheckpointStats()
        sqlite_file = database_file(engine.url)
        if sqlite_file is not None:  # SQLite: checkpoints off the writers' path (wal_checkpoints)
            tasks.append(_start(checkpoint_periodically(sqlite_file, checkpoints), "wal-checkpoints"))
        endpoint = settings.mqtt_endpoint()
        if endpoint is not None:
            app.state.publisher = publisher = DisplayPublisher(
                sessions, settings.display_debounce_s, read_sessions=read_sessions
            )
            app.state.worker = worker = IngestWorker(
                endpoint, settings.mqtt_shared_group, sessions, publisher
            )
            alerts.commands_queued = publisher.commands_queued
            tasks += [_start(worker.run(), "mqtt-ingest"), _start(publisher.run(), "display-publisher")]
        # Day and month closes, ranking snapshots, retention (RET-1), once per period across workers.
        changed = None if app.state.publisher is None else app.state.publisher.changed
        app.state.scheduler = clock = CloudScheduler(sessions, on_change=changed)
        clock.start()
        tasks.append(_start(upkeep(sessions, app.state.publisher), "roster-upkeep"))
        try:
            yield
        finally:
            await clock.aclose()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await stamps.aclose()
            await reader.dispose()
            await engine.dispose()

    app = FastAPI(title="MPM Edge cloud", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    problems.install(app)
    docs_assets.install(app)
    app.include_router(api_router)
    app.include_router(health.router)
    dashboard.install(app)
    return app


def _start(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    task = asyncio.create_task(work, name=name)
    task.add_done_callback(_report_death)
    return task


def _report_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s died", task.get_name(), exc_info=task.exception())
