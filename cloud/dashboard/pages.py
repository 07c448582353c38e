"""The dashboard's pages: ``/`` and ``/dashboard`` (HTML), login, display links, SSE and sign pictures.

Every page but the login needs a valid pass in the ``mpm_dashboard`` cookie (``access``); without one
a page redirects to the login form, the SSE stream and the pictures answer 401. Filters arrive as
query parameters and are validated like every API input (422 problem JSON naming the field).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Annotated, Final

from fastapi import APIRouter, Cookie, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from cloud.api.deps import MAX_ID
from cloud.api.problems import problem
from cloud.dashboard import access, board, live, passes
from cloud.dashboard.rendering import read_panels, render
from cloud.db.models import Organisation
from cloud.domain.periods import PeriodKind
from led_faces import AMBER, led_png_bytes, lines_bitmap

router = APIRouter(include_in_schema=False)

MAX_LOGIN_BODY: Final = 4096
PassCookie = Annotated[str | None, Cookie(alias=access.COOKIE, max_length=passes.MAX_PASS_CHARS)]
PointTypeCode = Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
DepartmentId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Screen = Annotated[str | None, Query(pattern=r"^(big|normal)$")]
SignPart = Annotated[str, Path(min_length=1, max_length=64)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _to_login(reason: str) -> RedirectResponse:
    return RedirectResponse("/dashboard/login?" + urllib.parse.urlencode({"reason": reason}), status_code=303)


def _set_pass(response: Response, request: Request, text: str, expires_at: dt.datetime) -> None:
    response.set_cookie(
        access.COOKIE,
        text,
        expires=expires_at,
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.get("/")
async def root() -> RedirectResponse:
    """The service's front page is the dashboard."""
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard/login")
async def login_form(reason: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    return HTMLResponse(render("login.html", title="MPM Edge — log in", reason=reason))


@router.post("/dashboard/login")
async def login(request: Request) -> Response:
    """Exchange an API token (form field ``token``) for a read-only dashboard pass in a cookie."""
    body = await _bounded_body(request, MAX_LOGIN_BODY)
    token = urllib.parse.parse_qs(body.decode("utf-8", errors="replace")).get("token", [""])[0].strip()
    if not token:
        return _to_login("please enter an API token")
    now = _now()
    async with request.app.state.read_sessions() as session:
        text = await access.token_login(session, request.app.state.master_key, token, now)
    if text is None:
        return _to_login("the API token is unknown, expired or revoked")
    response = RedirectResponse("/dashboard", status_code=303)
    _set_pass(response, request, text, passes.verify(request.app.state.master_key, text, now).expires_at)
    return response


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk; 413 as soon as it passes ``limit`` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise problem(413, "the login form is too large")
    return bytes(body)


@router.get("/dashboard/link/{pass_text}")
async def open_display_link(
    pass_text: Annotated[str, Path(max_length=passes.MAX_PASS_CHARS)], request: Request
) -> Response:
    """A display link: keep its pass as the cookie and show the big screen."""
    try:
        viewer = await access.viewer_of(request, pass_text, _now())
    except access.NoAccess as error:
        return _to_login(str(error))
    response = RedirectResponse("/dashboard?screen=big", status_code=303)
    expires = passes.verify(request.app.state.master_key, viewer.pass_text, _now()).expires_at
    _set_pass(response, request, pass_text, expires)
    return response


@router.post("/dashboard/logout")
async def logout() -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(access.COOKIE, path="/dashboard")
    return response


def _view(
    viewer: access.Viewer, point_type: str | None, period: PeriodKind, department: int | None
) -> board.View:
    return board.View(
        org_id=viewer.org_id,
        point_type=point_type,
        period=PeriodKind(period),
        department_id=department,
        public_only=viewer.public_only,
    )


@router.get("/dashboard")
async def dashboard(
    request: Request,
    pass_text: PassCookie = None,
    point_type: PointTypeCode = None,
    period: PeriodKind = PeriodKind.MONTH,
    department: DepartmentId = None,
    screen: Screen = None,
) -> Response:
    """The organisation's dashboard: ranking, latest events, sign previews, sites; live over SSE."""
    try:
        viewer = await access.viewer_of(request, pass_text, _now())
    except access.NoAccess as error:
        return _to_login(str(error))
    view = _view(viewer, point_type, period, department)
    async with request.app.state.read_sessions() as session:
        org = await session.get_one(Organisation, viewer.org_id)
        point_types, departments = await board.choices(session, viewer.org_id)
        panels = await read_panels(session, view, _now())
    query = {k: v for k, v in request.query_params.items() if k != "screen"}
    big = screen == "big"
    return HTMLResponse(
        render(
            "dashboard.html",
            title=f"{org.name} — MPM Edge",
            org_name=org.name,
            body_class="big" if big else "",
            big=big,
            view=view,
            periods=[p.value for p in PeriodKind],
            point_types=point_types,
            departments=departments,
            events_url="/dashboard/events?" + urllib.parse.urlencode(query),
            big_url="/dashboard?" + urllib.parse.urlencode(query | {"screen": "big"}),
            normal_url="/dashboard?" + urllib.parse.urlencode(query),
            **panels.context(),
        )
    )


@router.get("/dashboard/events")
async def events(
    request: Request,
    pass_text: PassCookie = None,
    point_type: PointTypeCode = None,
    period: PeriodKind = PeriodKind.MONTH,
    department: DepartmentId = None,
) -> Response:
    """Server-sent events: the dashboard's panels as HTML fragments whenever they change."""
    try:
        viewer = await access.viewer_of(request, pass_text, _now())
    except access.NoAccess as error:
        raise problem(401, str(error)) from None
    limit: live.StreamLimit = request.app.state.dashboard_streams
    slot = limit.try_open()
    if slot is None:
        raise problem(503, "too many live dashboards are open; try again shortly", {"Retry-After": "5"})
    view = _view(viewer, point_type, period, department)
    body = live.stream(request, viewer, view, limit.settings, slot, request.app.state.dashboard_renders)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    # The slot is released when the stream ends, and again (a no-op then) after the response: a
    # client gone before the first byte never starts the generator, so its finally would never run.
    return StreamingResponse(
        body, media_type="text/event-stream", headers=headers, background=BackgroundTask(slot.release)
    )


@router.get("/dashboard/signs/{agent_id}/{sign_png}")
async def sign_picture(
    agent_id: SignPart, sign_png: SignPart, request: Request, pass_text: PassCookie = None
) -> Response:
    """One sign's preview as LED dots, drawn by the simulators' own renderer (``led_faces``)."""
    try:
        viewer = await access.viewer_of(request, pass_text, _now())
    except access.NoAccess as error:
        raise problem(401, str(error)) from None
    if not sign_png.endswith(".png"):
        raise problem(404, "sign pictures end in .png")
    async with request.app.state.read_sessions() as session:
        sign = sign_png.removesuffix(".png")
        preview = await board.sign_preview(session, viewer.org_id, agent_id, sign, _now(), viewer.public_only)
    if preview is None:
        raise problem(404, f"no sign {sign_png.removesuffix('.png')!r} on agent {agent_id!r}")
    picture = led_png_bytes(lines_bitmap(preview.lines).rows, colour=AMBER, pitch=4, margin=6)
    return Response(picture, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})
