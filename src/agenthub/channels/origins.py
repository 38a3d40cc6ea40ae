"""Which web pages may talk to AgentHub from a browser.

A browser lets any page open a WebSocket to any address, the user's own 127.0.0.1
included, and says which page it was in the ``Origin`` header; the server has to refuse.
Allowed: clients that are not browsers (no ``Origin``), AgentHub's own pages (the origin's
host is the one the request was sent to), and the origins of ``ALLOWED_ORIGINS``, which
also get CORS headers on the HTTP API. Without those headers a browser keeps other pages
from reading any answer, and from sending JSON at all (a JSON body needs a preflight); a
body of another type is refused with 415 (see :mod:`agenthub.json_input`).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, *, host: str | None, allowed: frozenset[str]) -> bool:
    if not origin:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc == host.strip().lower()
