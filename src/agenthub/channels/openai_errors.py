"""Errors of the OpenAI-compatible API in OpenAI's shape:
``{"error": {"message", "type", "param", "code"}}``.

Everything under ``/v1`` that fails, whoever refuses it (a route, a dependency, the body's
reader, the rate limits, the guards in front of the app, an unexpected failure), is first
answered in AgentHub's shape by the handlers every route shares; :class:`OpenAIErrors`, the
outermost middleware, rewrites those answers on the way out. So no refusal on these paths can
be missed, and each keeps its status, except that a refused body is 400 (OpenAI's status for
it; AgentHub's 422) with the field in ``param``.

Clients of OpenAI retry 408, 409, 429 and 5xx answers by themselves unless told not to: every
error here but 429 and 503 (nothing was taken, try again later) says ``x-should-retry: false``,
since a message that was stored before its turn failed would otherwise be sent (and answered,
and paid for) again.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthub.channels.paths import route_path

PREFIX = "/v1"

TYPES = {
    401: "invalid_request_error",
    402: "insufficient_quota",
    429: "requests",
}
"""The error ``type`` by status, as OpenAI names them; others below 500 are
``invalid_request_error``, 500 and above (and a failed agent, 409) ``server_error``."""

CODES = {
    "unauthorized": "invalid_api_key",
    "budget_exceeded": "insufficient_quota",
    "rate_limited": "rate_limit_exceeded",
}
"""AgentHub's codes that OpenAI has a word of its own for; others are kept."""

RETRIED = frozenset({429, 503})


def openai_error(status: int, message: str, *, code: str | None, param: str | None = None) -> dict[str, Any]:
    """The body of an error of ``status``."""
    kind = TYPES.get(status) or ("server_error" if status >= 500 or status == 409 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _translated(status: int, body: bytes) -> tuple[int, bytes]:
    """The status and body to send instead of AgentHub's error ``body``."""
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        found = None
    error = found.get("error") if isinstance(found, dict) else None
    if isinstance(error, dict) and "type" in error:
        return status, body  # said in OpenAI's shape already
    if not isinstance(error, dict):
        text = body.decode("utf-8", "replace").strip()[:500] or "error"
        return status, orjson.dumps(openai_error(status, text, code=None))
    details = error.get("details")
    param = None
    if isinstance(details, list) and details and isinstance(details[0], dict):
        param = details[0].get("field")
    if status == 422:
        status = 400
    code = str(error.get("code") or "") or None
    message = str(error.get("message") or code or "error")
    return status, orjson.dumps(openai_error(status, message, code=CODES.get(code or "", code), param=param))


def _headers(start: Message, length: int, status: int) -> list[tuple[bytes, bytes]]:
    kept = [
        (name, value) for name, value in start.get("headers", [])
        if name.lower() not in (b"content-length", b"content-type", b"x-should-retry")
    ]
    kept += [(b"content-type", b"application/json"), (b"content-length", str(length).encode())]
    if status not in RETRIED:
        kept.append((b"x-should-retry", b"false"))
    return kept


def is_openai_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class OpenAIErrors:
    """Rewrites each error answered under ``/v1`` into OpenAI's shape (see the module);
    every other answer passes untouched, a stream as it streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_openai_path(route_path(scope)):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def rewriting(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, translated = _translated(start["status"], bytes(body))
            await send({
                "type": "http.response.start", "status": status,
                "headers": _headers(start, len(translated), status),
            })
            await send({"type": "http.response.body", "body": translated})

        await self.app(scope, receive, rewriting)
