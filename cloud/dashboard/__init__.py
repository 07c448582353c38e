"""The organisation dashboard served by the cloud: live ranking, latest events, sign previews, sites.

``install(app)`` adds the pages (``/``, ``/dashboard``…), the display-link API under ``/api/v1``
and the vendored front-end (htmx 1.9.12 and its SSE extension, 0BSD, in ``static/``: no CDN).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from cloud.api.problems import COMMON_RESPONSES
from cloud.dashboard import links, pages
from cloud.dashboard.live import LiveSettings, StreamLimit
from cloud.dashboard.shared_renders import SharedRenders

STATIC_DIR: Final = Path(__file__).parent / "static"


def install(app: FastAPI, live: LiveSettings | None = None) -> None:
    """Serve the dashboard from ``app``; ``live`` bounds its SSE streams (defaults: ``LiveSettings``)."""
    app.state.dashboard_streams = StreamLimit(live or LiveSettings())
    app.state.dashboard_renders = SharedRenders()
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    app.include_router(links.router, prefix="/api/v1", responses=COMMON_RESPONSES)
    app.include_router(pages.router)


__all__ = ["LiveSettings", "install"]
