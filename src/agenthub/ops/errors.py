"""One place that turns every error into the JSON shape clients rely on."""

from __future__ import annotations

import logging
from json import JSONDecodeError
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthub.errors import (
    AgentHubError,
    InvalidInput,
    RateLimited,
    Unauthorized,
    field_path,
    is_unavailable,
    plain_problem,
)
from agenthub.json_input import InvalidBody, not_json

log = logging.getLogger(__name__)

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_input", 429: "rate_limited", 503: "unavailable"}


def error_body(code: str, message: str, **extra: object) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentHubError)
    async def _agenthub(_request: Request, error: AgentHubError) -> JSONResponse:
        if isinstance(error, InvalidInput):  # every 422 has details, as validation errors do
            details = [{"field": error.field, "problem": error.problem}]
            return JSONResponse(error_body(error.code, error.message, details=details), status_code=422)
        headers: dict[str, str] = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(error.retry_after)
        elif isinstance(error, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        extra = getattr(error, "extra", None) or {}  # what an error names besides its message (step_in_use)
        return JSONResponse(
            error_body(error.code, error.message, **extra), status_code=error.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"field": _where(e), "problem": _problem(e)} for e in error.errors()]
        if any(e["type"] == "json_invalid" for e in error.errors()):
            cause = error.__cause__  # the reader's own error, with where the text went wrong
            message = not_json(cause, "body") if isinstance(cause, JSONDecodeError) else "the body is not valid JSON"
            return JSONResponse(error_body("bad_request", message), status_code=400)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        return JSONResponse(error_body("invalid_input", summary, details=problems), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        if isinstance(error, InvalidBody):
            details = [{"field": error.field, "problem": error.problem}]
            return JSONResponse(error_body("invalid_input", str(error.detail), details=details), status_code=422)
        code = _HTTP_CODES.get(error.status_code, "error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    app.add_middleware(UnexpectedErrors)


def _problem(error: Any) -> str:
    """What is wrong, in the words a person uses: a secret (a password, a token) too short
    or too long is counted in characters, as any text is, not in pydantic's "items"."""
    kind, context = error.get("type"), error.get("ctx") or {}
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str | SecretStr):
        if kind == "too_short":
            return f"should have at least {context.get('min_length')} characters"
        return f"should have at most {context.get('max_length')} characters"
    return plain_problem(error["msg"])


def unexpected_response(error: Exception, path: str) -> JSONResponse:
    """503 for an unreachable database or bus (a warning, no trace), 500 otherwise (the
    trace logged once)."""
    if is_unavailable(error):
        log.warning("a backing service is unreachable: %s", type(error).__name__, extra={"path": path})
        return JSONResponse(
            error_body("unavailable", "a backing service (database or bus) is unreachable; try again"),
            status_code=503,
        )
    log.exception("unhandled error", extra={"path": path})
    return JSONResponse(error_body("internal", "internal error"), status_code=500)


class UnexpectedErrors:
    """Answers an exception no handler took with the JSON error of
    :func:`unexpected_response`. A middleware rather than an ``Exception`` handler: Starlette
    raises the exception again after such a handler answered, so the server would log every
    503 of an outage as an error with its trace, and every 500 twice."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            if started:  # part of a response went out already: nothing to answer with
                raise
            await unexpected_response(error, scope.get("path", ""))(scope, receive, send)


_TAGS = ("union_tag_invalid", "union_tag_not_found")
_PLACES = ("body", "query", "path", "header", "cookie")


def _where(problem: Any) -> str:
    """The field a validation problem is at; for a tagged union whose tag is wrong or missing
    (``{"type": "sms"}``), the tag's field (``type``), not the object holding it."""
    loc = tuple(problem["loc"])
    if loc and loc[0] in _PLACES:  # where FastAPI read it: a body field is `name`, a query parameter `from`
        loc = loc[1:]
    where = field_path(loc)
    if problem["type"] in _TAGS:
        tag = str((problem.get("ctx") or {}).get("discriminator", "")).strip("'\"")
        if tag:
            where = f"{where}.{tag}" if where else tag
    return where or "body"
