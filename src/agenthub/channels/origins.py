"""Which web pages may talk to AgentHub from a browser.

A browser lets any page open a WebSocket to any address, the user's own 127.0.0.1
included, and says which page it was in the ``Origin`` header; the server has to refuse.
Allowed: clients that are not browsers (no ``Origin``), AgentHub's own pages (the origin's
host is the one the request was sent to), and the origins of ``ALLOWED_ORIGINS``, which
also get CORS headers on the HTTP API. Without those headers a browser keeps other pages
from reading any answer; :class:`ForeignOriginGuard` refuses the requests such a page could
still send that change something (a POST needs no preflight).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def origin_allowed(origin: str | None, *, host: str | None, allowed: frozenset[str]) -> bool:
    if not origin:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc == host.strip().lower()


class ForeignOriginGuard:
    """Refuses (403) a request that changes something when a browser sends it from a page
    of another site. A browser sends a POST without a body (``/stop``, ``/start``) to any
    address without asking first; the answer it can't read, but the agent would be stopped.
    Reads (GET, HEAD, OPTIONS) pass: CORS keeps other sites from reading the answers."""

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self._allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in self.SAFE_METHODS:
            headers = Headers(scope=scope)
            if not origin_allowed(headers.get("origin"), host=headers.get("host"), allowed=self._allowed):
                body = {"error": {"code": "forbidden", "message": "requests from pages of other sites are refused; "
                                  "list the site in ALLOWED_ORIGINS to let it in"}}
                await JSONResponse(body, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
