"""Interactive API docs from package assets: ``/docs`` loads Swagger UI from this package, never a CDN,
so it works on a cloud host without Internet access. ReDoc is off (one viewer is enough).

The files in ``static/swagger-ui/`` are swagger-ui-dist 5.35.0 (npm), copied unchanged with its LICENSE
and NOTICE: ``swagger-ui-bundle.js``, ``swagger-ui.css``, ``favicon-32x32.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR: Final = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH: Final = "/static/swagger-ui"
DOCS_PATH: Final = "/docs"


def install(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` with scripts, styles and icon from ``ASSETS_PATH``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="swagger-ui-assets")
    redirect = app.swagger_ui_oauth2_redirect_url or f"{DOCS_PATH}/oauth2-redirect"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=redirect,
        )

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
