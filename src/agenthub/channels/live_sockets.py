"""A listen-only WebSocket over one bus channel, as the live sockets of scenario bots
(:mod:`agenthub.channels.bot_events`) and group chats (:mod:`agenthub.channels.group_chats`)
are: check who may watch, subscribe, say ``subscribed``, forward every event, and answer
whatever the client sends with ``read_only``.

Refusals are an ``error`` event, then a close: 4401 (credentials missing or not valid),
4403 (the check raised Forbidden), 4404 (it raised NotFound), 1013 when the database or
the bus is down (reconnect later). When the subscription breaks the socket is closed with
1013; when ``ends`` says an event ends the watch (a member removed), after that event,
with 4404.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket

from agenthub.caller import Caller
from agenthub.channels import events
from agenthub.errors import Forbidden, NotFound, ServiceUnavailable, Unauthorized, is_unavailable

log = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401
FORBIDDEN_CLOSE = 4403
NOT_FOUND_CLOSE = 4404
TRY_LATER_CLOSE = 1013


@dataclass(frozen=True)
class LiveSocket:
    """What one kind of live socket watches and says."""

    name: str
    """For logs and task names: ``bot-events``, ``group-chat``."""
    check: Callable[[Caller], Awaitable[None]]
    """Raises NotFound (or Forbidden) unless the caller may watch."""
    key: str
    """The bus channel of the events."""
    subscribed: dict[str, Any]
    """Fields of the ``subscribed`` status (what is watched: ``{"bot_id": ...}``)."""
    read_only: str
    """What a client that sends something is told (where to act instead)."""
    ends: Callable[[dict[str, Any]], bool] = field(default=lambda event: False)
    """Whether an event ends the watch (the socket is closed with 4404 after it)."""
    ended: str = "no longer yours to watch"


async def serve(websocket: WebSocket, credentials: Caller | Unauthorized | None, live: LiveSocket) -> None:
    """Serve ``websocket`` (accepted here) until the client goes or the watch ends."""
    await websocket.accept()  # pages of other sites were refused before (channels/origins.py)
    if credentials is None or isinstance(credentials, Unauthorized):
        reason = credentials.message if credentials is not None else "log in first: send a token (?token=...)"
        await _refuse(websocket, UNAUTHORIZED_CLOSE, events.error_event("unauthorized", reason))
        return
    try:
        await live.check(credentials)
        subscription = await websocket.app.state.bus.subscribe(live.key)
    except (NotFound, Forbidden) as error:
        code = NOT_FOUND_CLOSE if isinstance(error, NotFound) else FORBIDDEN_CLOSE
        await _refuse(websocket, code, events.error_event(error.code, error.message))
        return
    except Exception as error:
        if not (is_unavailable(error) or isinstance(error, ServiceUnavailable)):
            raise
        await _refuse(websocket, TRY_LATER_CLOSE, events.error_event("unavailable", "the service is temporarily unavailable"))
        return
    lock = asyncio.Lock()

    async def send(payload: dict[str, Any]) -> None:
        async with lock:
            await events.send(websocket, payload)

    async def forward() -> bool:
        """Until the subscription ends (False) or an event ends the watch (True)."""
        async for event in subscription:
            await send(event)
            if live.ends(event):
                return True
        return False

    forwarder = asyncio.create_task(forward(), name=f"{live.name}-socket")
    try:
        await send({"type": "status", "message": "subscribed", **live.subscribed})
        receiver = asyncio.create_task(_receive(websocket, send, live.read_only))
        done, _ = await asyncio.wait({forwarder, receiver}, return_when=asyncio.FIRST_COMPLETED)
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        if forwarder in done:
            await _closed_by_watch(websocket, forwarder, live)
    finally:
        forwarder.cancel()
        await asyncio.gather(forwarder, return_exceptions=True)
        with contextlib.suppress(Exception):
            await subscription.close()


async def _closed_by_watch(websocket: WebSocket, forwarder: asyncio.Task[bool], live: LiveSocket) -> None:
    if not forwarder.cancelled() and forwarder.exception() is None and forwarder.result():
        with contextlib.suppress(Exception):
            await websocket.close(code=NOT_FOUND_CLOSE, reason=live.ended)
        return
    log.warning("%s socket lost its subscription", live.name, extra=dict(live.subscribed))
    with contextlib.suppress(Exception):
        await websocket.close(code=TRY_LATER_CLOSE, reason="try again later")


async def _receive(websocket: WebSocket, send: Callable[[dict[str, Any]], Awaitable[None]], hint: str) -> None:
    """Until the client goes: whatever it sends is answered with ``read_only``."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(events.error_event("read_only", hint))


async def _refuse(websocket: WebSocket, code: int, event: dict[str, Any]) -> None:
    await events.send(websocket, event)
    await websocket.close(code=code, reason=event["message"].encode()[:123].decode(errors="ignore"))
