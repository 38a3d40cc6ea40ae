"""Server-Sent Events as a plain ASGI response.

Each answer over SSE is one streamed response of a dozen or more small events, and it is on
the path of every message, so this does the least it can: the events come already encoded
(:func:`encode_event`, compact JSON), a task of their own sends them as they come (its
stack is short: waking it for each event does not wake the whole middleware stack), a
second one watches for the client going away, and nothing else runs beside them: no timer
task, no cancel scope per event. Keep-alive comments (:data:`KEEPALIVE`) come from whoever
produces the events, when it has waited long enough (see
:meth:`agenthub.channels.gateway.Gateway.follow`): the producer knows when it is idle.

When the client goes away the stream is cancelled and its generator closed, and what it
held (the gateway's listener) is let go at once rather than when the answer is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

KEEPALIVE = b": ping\r\n\r\n"
"""A comment line: clients ignore it, proxies see a connection that is not idle."""

HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once, not when a buffer fills
}


def encode_event(name: str, data: Any) -> bytes:
    """One event: ``event: name``, its data as one line of JSON. ``name`` must hold no line
    break (JSON text holds none: line breaks in strings are escaped)."""
    return b"event: " + name.encode() + b"\r\ndata: " + orjson.dumps(data) + b"\r\n\r\n"


class EventStream(Response):
    """A 200 response that sends each piece ``events`` yields (whole encoded events, or
    :data:`KEEPALIVE`) as it comes, and ends when ``events`` ends."""

    def __init__(
        self,
        events: AsyncGenerator[bytes, None],
        *,
        headers: Mapping[str, str] | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``on_close`` is awaited once the response has ended, however it ended (the client
        gone, the stream failed, even before ``events`` began): let go there of what the
        events needed."""
        self._events = events
        self._on_close = on_close
        self.status_code = 200
        self.background = None
        # Set here, not on the class: the route's OpenAPI entry describes the events itself,
        # and a class-level media type would make FastAPI declare the body a plain string.
        self.media_type = "text/event-stream"
        self.init_headers({**HEADERS, **(headers or {})})  # no body: no Content-Length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.ensure_future(self._stream(send))
        watching = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((streaming, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (watching, streaming):  # the stream too, when the client has gone
                task.cancel()
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
                with contextlib.suppress(asyncio.CancelledError):
                    await streaming  # raises what the stream failed with, if it did
            finally:
                if self._on_close is not None:
                    await self._on_close()
        if self.background is not None:
            await self.background()

    async def _stream(self, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for piece in self._events:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await self._events.aclose()


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone (the request's body was read before)."""
    while (await receive())["type"] != "http.disconnect":
        pass
