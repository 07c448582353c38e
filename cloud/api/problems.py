"""Every error answers ``application/problem+json`` (RFC 9457) with a clear ``detail``."""

from __future__ import annotations

import http
import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def _documented(status: int, meaning: str) -> dict[str, Any]:
    example = {
        "type": "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": meaning,
    }
    return {
        "description": meaning,
        "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA, "example": example}},
    }


# Every route may answer these (RFC 9457 problem details); documented once for the whole API.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented(401, "a bearer token is required (Authorization: Bearer <token>)"),
    403: _documented(403, "this action needs a stronger role, or the workflow forbids it"),
    404: _documented(404, "member 7 not found (also for anything outside your organisation)"),
    409: _documented(409, "a conflict with the current state (taken PIN, decided event, reused key)"),
    422: _documented(422, "points: must be a non-zero integer"),
}


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    """An exception that answers a problem document with ``status`` and ``detail``."""
    return HTTPException(status_code=status, detail=detail, headers=headers)


def not_found(what: str, ident: object) -> HTTPException:
    """404 for an object that does not exist in the caller's organisation (foreign ids included)."""
    return problem(404, f"{what} {ident} not found")


def _response(request: Request, status: int, detail: str, headers: Any = None, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _response(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return _response(request, 422, detail, errors=errors)


# A write that lost its turn is the server being busy, not broken: SQLite's lock wait (busy_timeout)
# ran out, or PostgreSQL chose this transaction as a deadlock or serialisation victim. The transaction
# was rolled back, so nothing was stored: 503 with Retry-After, and the client repeats the call (with
# the same Idempotency-Key where the route takes one).
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})  # serialisation, deadlock, lock not available


def database_busy(exc: DBAPIError) -> bool:
    """Whether ``exc`` says the database was busy (retry later) rather than that the request is wrong."""
    if getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    message = str(exc.orig)
    return isinstance(exc, OperationalError) and ("database is locked" in message or "busy" in message)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if not database_busy(exc):
        return await _unexpected(request, exc)
    log.warning("%s %s: database busy (%s); answered 503", request.method, request.url.path, exc.orig)
    detail = "the database is busy; nothing was stored: retry shortly (with the same Idempotency-Key)"
    return _response(request, 503, detail, {"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return _response(request, 500, "internal error; the incident is logged")


def install(app: FastAPI) -> None:
    """Route every error of ``app`` through the problem-details handlers."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
