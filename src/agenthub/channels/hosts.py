"""Which host names a request may be addressed to: the defence against DNS rebinding.

A page on ``evil.example`` can make its own name resolve to 127.0.0.1; the browser then
sends the page's requests to AgentHub as same-origin requests, with ``Host:
evil.example`` (and a matching ``Origin``, which :mod:`agenthub.channels.origins` lets
through as AgentHub's own page). Only the ``Host`` header tells them apart, so it is checked
against ``ALLOWED_HOSTS`` (by default the names a local server is reached by) before
anything else; other hosts get 400, and their WebSockets are refused. ``*`` turns the check
off for deployments whose proxy checks the host itself.

Starlette's ``TrustedHostMiddleware`` does the same check but answers in plain text; this
one answers in the JSON error shape of the API.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agenthub.channels.origins import refuse
from agenthub.channels.paths import route_path

log = logging.getLogger(__name__)

REFUSED = "this server is not reached by that host name; list it in ALLOWED_HOSTS to allow it"


def host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    """True for a ``Host`` header naming an allowed host, with or without its port (an
    entry ``name:port`` allows that port only)."""
    if "*" in allowed:
        return True
    if not host:
        return False
    host = host.strip().lower()
    if host in allowed:
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.startswith("[") and name.endswith("]"):
        return name in allowed or name[1:-1] in allowed
    return name in allowed


OPEN_PATHS = frozenset({"/health"})
"""Answered whatever the host: health probes (a load balancer, Kubernetes) address the
server by its IP, and the health report holds nothing a rebinding page could use."""


def _probe(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and route_path(scope) in OPEN_PATHS


DUPLICATE_HOST = "the request has more than one Host header"


def _host_headers(scope: Scope) -> tuple[int, str | None]:
    """How many ``Host`` headers the request has, and the first one's value: one pass over
    the headers, every request goes through it."""
    count, first = 0, None
    for name, value in scope.get("headers", ()):
        if name.lower() == b"host":
            count += 1
            if first is None:
                first = value.decode("latin-1")
    return count, first


class HostGuard:
    """Refuses (400) requests and WebSockets whose ``Host`` is not allowed, and any with
    more than one ``Host`` header (HTTP/1.1 forbids it; a second one could pass a check of
    the first to what reads the other)."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self._allowed = allowed
        self._checks_host = "*" not in allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        count, host = _host_headers(scope)
        if count > 1:
            log.warning("request with several Host headers refused", extra={"path": scope.get("path")})
            response = JSONResponse({"error": {"code": "invalid_host", "message": DUPLICATE_HOST}}, status_code=400)
            await refuse(scope, receive, send, response, close_code=1008)
            return
        if self._checks_host and not _probe(scope):
            if not host_allowed(host, self._allowed):
                log.warning("request for another host refused", extra={"host": str(host)[:200], "path": scope.get("path")})
                response = JSONResponse({"error": {"code": "invalid_host", "message": REFUSED}}, status_code=400)
                await refuse(scope, receive, send, response, close_code=1008)
                return
        await self.app(scope, receive, send)
