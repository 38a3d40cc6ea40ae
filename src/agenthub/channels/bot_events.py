"""The live WebSocket of a scenario bot for its builders: ``/ws/bots/{bot_id}/events``.

With the credentials of any WebSocket (``Authorization: Bearer`` or ``?token=``: a user's
access token or an API key of the bot's organisation). Once subscribed it sends
``{"type": "status", "message": "subscribed", "bot_id"}``, then every event of
:mod:`agenthub.scenarios.live` as it happens, from whichever process it happened in:
``bot_changed`` (the draft edited, a version published) and ``message`` (the bot received
or sent one, test chats included, with ``test: true``). It only listens: a frame the client
sends gets an ``error`` event ``read_only``. Refusals are an ``error`` event, then a close:
4401 (credentials missing or not valid), 4404 (no bot of yours by that id); 1013 when the
database or the bus is down (reconnect later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket

from agenthub.bus import keys
from agenthub.channels import events
from agenthub.deps import SocketCallerDep
from agenthub.errors import NotFound, ServiceUnavailable, Unauthorized, is_unavailable
from agenthub.scenarios import service

router = APIRouter(tags=["bots"])
log = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401
NOT_FOUND_CLOSE = 4404


@router.websocket("/ws/bots/{bot_id}/events")
async def bot_events_socket(websocket: WebSocket, bot_id: str, credentials: SocketCallerDep) -> None:
    await websocket.accept()  # pages of other sites were refused before (channels/origins.py)
    if credentials is None or isinstance(credentials, Unauthorized):
        reason = credentials.message if credentials is not None else "log in first: send a token (?token=...)"
        await _refuse(websocket, UNAUTHORIZED_CLOSE, events.error_event("unauthorized", reason))
        return
    bus = websocket.app.state.bus
    try:
        async with websocket.app.state.session_factory() as session:
            await service.bot_of(session, credentials, bot_id)
        subscription = await bus.subscribe(keys.bot_events(bot_id))
    except NotFound as error:
        await _refuse(websocket, NOT_FOUND_CLOSE, events.error_event(error.code, error.message))
        return
    except Exception as error:
        if not (is_unavailable(error) or isinstance(error, ServiceUnavailable)):
            raise
        await _refuse(websocket, 1013, events.error_event("unavailable", "the service is temporarily unavailable"))
        return
    lock = asyncio.Lock()

    async def send(payload: dict[str, Any]) -> None:
        async with lock:
            await websocket.send_json(payload)

    async def forward() -> None:
        async for event in subscription:
            await send(event)

    forwarder = asyncio.create_task(forward(), name=f"bot-events-socket:{bot_id}")
    try:
        await send({"type": "status", "message": "subscribed", "bot_id": bot_id})
        receiver = asyncio.create_task(_receive(websocket, send))
        done, _ = await asyncio.wait({forwarder, receiver}, return_when=asyncio.FIRST_COMPLETED)
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        if forwarder in done:  # the bus subscription broke: the client reconnects
            log.warning("bot events socket lost its subscription", extra={"bot_id": bot_id})
            with contextlib.suppress(Exception):
                await websocket.close(code=1013, reason="try again later")
    finally:
        forwarder.cancel()
        await asyncio.gather(forwarder, return_exceptions=True)
        with contextlib.suppress(Exception):
            await subscription.close()


async def _receive(websocket: WebSocket, send: Any) -> None:
    """Until the client goes: whatever it sends is answered with ``read_only``."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(events.error_event("read_only", "this socket only listens: build the bot over the API or MCP"))


async def _refuse(websocket: WebSocket, code: int, event: dict[str, Any]) -> None:
    await websocket.send_json(event)
    await websocket.close(code=code, reason=event["message"].encode()[:123].decode(errors="ignore"))
