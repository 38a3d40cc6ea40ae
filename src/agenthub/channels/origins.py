"""Which web pages may talk to AgentHub from a browser.

A browser lets any page open a WebSocket to any address, the user's own 127.0.0.1
included, and says which page it was in the ``Origin`` header; the server has to refuse.
Allowed: clients that are not browsers (no ``Origin``), AgentHub's own pages (the origin's
host is the one the request was sent to), and the origins of ``ALLOWED_ORIGINS``, which
also get CORS headers on the HTTP API. Without those headers a browser keeps other pages
from reading any answer; :class:`ForeignOriginGuard` refuses the WebSockets and the
requests that change something such a page could still send (a POST needs no preflight).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

log = logging.getLogger(__name__)


def origin_allowed(origin: str | None, *, host: str | None, allowed: frozenset[str]) -> bool:
    if not origin:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in allowed:
        return True
    return host is not None and bool(host) and urlsplit(origin).netloc == host.strip().lower()


REFUSED = "requests from pages of other sites are refused; list the site in ALLOWED_ORIGINS to let it in"


class ForeignOriginGuard:
    """Refuses (403) what a browser may send from a page of another site without asking
    first and that does something: a WebSocket (a chat), and a request that changes
    something (a POST without a body, ``/stop``, needs no preflight; the answer the page
    can't read, but the agent would be stopped). Reads (GET, HEAD) pass: CORS keeps other
    sites from reading the answers. A preflight is refused with a JSON error the browser's
    console shows. Runs outside the CORS middleware, so it also answers the preflights
    CORS would refuse in plain text."""

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
    """Pass, but for a CORS preflight: an ``OPTIONS`` asking whether another site may send
    a request is answered no (403) here, not by the route (which knows no OPTIONS)."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self._allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        changes = scope["type"] == "http" and scope["method"] not in self.SAFE_METHODS
        if scope["type"] == "websocket" or changes or _preflight(scope):
            origin, host = _origin_and_host(scope)
            if not origin_allowed(origin, host=host, allowed=self._allowed):
                where = {"path": scope.get("path"), "origin": str(origin)[:200]}
                log.warning("request from another site refused", extra=where)
                response = JSONResponse({"error": {"code": "forbidden", "message": REFUSED}}, status_code=403)
                await refuse(scope, receive, send, response, close_code=1008)
                return
        await self.app(scope, receive, send)


def _origin_and_host(scope: Scope) -> tuple[str | None, str | None]:
    """The first ``Origin`` and ``Host`` headers, in one pass over the headers."""
    origin = host = None
    for name, value in scope.get("headers", ()):
        name = name.lower()
        if name == b"origin" and origin is None:
            origin = value.decode("latin-1")
        elif name == b"host" and host is None:
            host = value.decode("latin-1")
    return origin, host


def _preflight(scope: Scope) -> bool:
    """A browser's CORS preflight: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``."""
    if scope["type"] != "http" or scope["method"] != "OPTIONS":
        return False
    headers = Headers(scope=scope)
    return "origin" in headers and "access-control-request-method" in headers


async def refuse(
    scope: Scope, receive: Receive, send: Send, response: JSONResponse, *, close_code: int
) -> None:
    """Answer an HTTP request with ``response``; refuse a WebSocket handshake with it where
    the server can send a body, else with a bare close (``close_code``)."""
    if scope["type"] == "http":
        await response(scope, receive, send)
        return
    websocket = WebSocket(scope, receive, send)
    if "websocket.http.response" in scope.get("extensions", {}):
        await websocket.send_denial_response(response)  # the handshake answered with this status
    else:
        await websocket.close(code=close_code)  # a bare 403, where the server can send no body
