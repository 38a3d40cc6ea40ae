"""The live WebSocket of a scenario bot for its builders: ``/ws/bots/{bot_id}/events``.

With the credentials of any WebSocket (``Authorization: Bearer`` or ``?token=``: a user's
access token or an API key of the bot's organisation). Once subscribed it sends
``{"type": "status", "message": "subscribed", "bot_id"}``, then every event of
:mod:`agenthub.scenarios.live` as it happens, from whichever process it happened in:
``bot_changed`` (the draft edited, a version published) and ``message`` (the bot received
or sent one, test chats included, with ``test: true``). It only listens: a frame the client
sends gets an ``error`` event ``read_only``. Refusals are an ``error`` event, then a close:
4401 (credentials missing or not valid), 4404 (no bot of yours by that id); 1013 when the
database or the bus is down (reconnect later). The socket is
:mod:`agenthub.channels.live_sockets`'s.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from agenthub.bus import keys
from agenthub.caller import Caller
from agenthub.channels.live_sockets import LiveSocket, serve
from agenthub.deps import SocketCallerDep
from agenthub.scenarios import service

router = APIRouter(tags=["bots"])


@router.websocket("/ws/bots/{bot_id}/events")
async def bot_events_socket(websocket: WebSocket, bot_id: str, credentials: SocketCallerDep) -> None:
    async def check(caller: Caller) -> None:
        async with websocket.app.state.session_factory() as session:
            await service.bot_of(session, caller, bot_id)

    await serve(websocket, credentials, LiveSocket(
        name="bot-events", check=check, key=keys.bot_events(bot_id), subscribed={"bot_id": bot_id},
        read_only="this socket only listens: build the bot over the API or MCP",
    ))
