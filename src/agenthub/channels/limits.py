"""Limits that keep one client from exhausting a gateway through WebSockets.

- A frame larger than the HTTP body limit (1 MiB) is refused by the WebSocket server
  itself, from the frame's header, before its payload is read: the connection closes with
  1009 (message too big). :func:`websocket_server_options` gives uvicorn that limit; both
  ``agenthub serve`` and the tests run uvicorn with it.
- :class:`ConnectionLimit` refuses a WebSocket handshake (429, or a close with 1013 where
  the server can send no body) from a client address that already holds
  ``WS_MAX_CONNECTIONS_PER_CLIENT`` WebSockets open. Behind a proxy every client has the
  proxy's address unless the server is told to trust ``X-Forwarded-For``.
- A connection that sends no complete message for ``WS_IDLE_TIMEOUT`` seconds while no
  answer is awaited is closed (see :mod:`agenthub.channels.websocket`).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agenthub.channels.origins import refuse
from agenthub.json_input import MAX_BODY_BYTES

log = logging.getLogger(__name__)

WS_PING_INTERVAL = 20.0


def websocket_server_options() -> dict[str, Any]:
    """uvicorn's WebSocket settings."""
    return {
        "ws_max_size": MAX_BODY_BYTES,
        "ws_ping_interval": WS_PING_INTERVAL,
        # Frames are small JSON events: compressing them costs both ends more CPU than the
        # bytes it saves on any link AgentHub runs over.
        "ws_per_message_deflate": False,
    }


class ConnectionLimit:
    """At most ``per_client`` open WebSockets per client address."""

    def __init__(self, app: ASGIApp, *, per_client: int) -> None:
        self.app = app
        self._per_client = per_client
        self._open: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self._open[client] >= self._per_client:
            log.warning("WebSocket refused: too many from one client", extra={"limit": self._per_client})
            message = f"too many WebSockets from this address (at most {self._per_client} at once)"
            response = JSONResponse({"error": {"code": "too_many_connections", "message": message}}, status_code=429)
            await refuse(scope, receive, send, response, close_code=1013)
            return
        self._open[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]
