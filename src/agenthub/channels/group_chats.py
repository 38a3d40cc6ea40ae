"""Group chat routes of the gateway: posting a message (it may ask AI roles: see
:mod:`agenthub.channels.group_chat_flows`) and the live WebSocket of a group chat.

WebSocket ``/ws/group-chats/{group_chat_id}``, with the credentials of any WebSocket
(``Authorization: Bearer`` or ``?token=``), for members only. Once subscribed it sends
``{"type": "status", "message": "subscribed", "group_chat_id"}``, then every event of
:mod:`agenthub.groupchats.live` (new messages, reviewed answers, rejected ones) as it
happens, from whichever gateway it happened on. It only listens: a frame the client sends
gets an ``error`` event ``read_only`` (post with ``POST .../messages``). Refusals are an
``error`` event, then a close: 4401 (credentials missing or not valid), 4403 (an API key:
group chats are people's), 4404 (no group chat of yours by that id, whether it exists or
not); 1013 when the database or the bus is down (reconnect later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, WebSocket, status
from starlette.requests import HTTPConnection

from agenthub.bus import keys
from agenthub.channels import events
from agenthub.channels.group_chat_flows import GroupChatRoles
from agenthub.deps import SocketCallerDep, UserDep
from agenthub.errors import NotFound, ServiceUnavailable, Unauthorized, is_unavailable
from agenthub.groupchats import live, service
from agenthub.groupchats.schemas import MessageCreate, MessageRead
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(tags=["group chats"], route_class=StrictJSONRoute)
log = logging.getLogger(__name__)

GroupChatId = Annotated[str, Path(max_length=64, description="The group chat's id")]
UNAUTHORIZED_CLOSE = 4401
FORBIDDEN_CLOSE = 4403
NOT_FOUND_CLOSE = 4404


async def _roles(connection: HTTPConnection) -> GroupChatRoles:
    roles: GroupChatRoles = connection.app.state.group_chat_roles
    return roles


GroupChatRolesDep = Annotated[GroupChatRoles, Depends(_roles)]


@router.post(
    "/api/v1/group-chats/{group_chat_id}/messages", status_code=status.HTTP_201_CREATED, response_model=MessageRead,
    responses=error_responses(403, 404, meanings={
        403: "Sent with an API key: group chats are people's",
        404: "No group chat of that id that you are a member of",
    }),
)
async def post_message(
    group_chat_id: GroupChatId, data: MessageCreate, caller: UserDep, roles: GroupChatRolesDep
) -> MessageRead:
    """Post a message; the answer holds its `mentions` as resolved. `@username` notifies
    that member on their notification channels (source `mention:{message_id}`); `@@role`
    asks that AI role as you (your access and budget): the organisation's agent of that
    id, else the group's agent in that role. Its answer comes later as a message of its own
    (`author_type` `role`, `ai_validated` false), live on the group's WebSocket."""
    return await roles.post(caller=caller, group_chat_id=group_chat_id, content=data.content)


@router.websocket("/ws/group-chats/{group_chat_id}")
async def group_chat_socket(websocket: WebSocket, group_chat_id: str, credentials: SocketCallerDep) -> None:
    await websocket.accept()  # pages of other sites were refused before (channels/origins.py)
    if credentials is None or isinstance(credentials, Unauthorized):
        reason = credentials.message if credentials is not None else "log in first: send a token (?token=...)"
        await _refuse(websocket, UNAUTHORIZED_CLOSE, events.error_event("unauthorized", reason))
        return
    if not credentials.is_user:
        await _refuse(websocket, FORBIDDEN_CLOSE, events.error_event(
            "forbidden", "group chats are people's: connect with a user's access token, not an API key"
        ))
        return
    bus = websocket.app.state.bus
    try:
        async with websocket.app.state.session_factory() as session:
            await service.get(session, caller=credentials, group_chat_id=group_chat_id)
        subscription = await bus.subscribe(keys.group_chat_events(group_chat_id))
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
            if live.ends_membership(event, credentials.user_id):
                return

    forwarder = asyncio.create_task(forward(), name=f"group-chat-socket:{group_chat_id}")
    try:
        await send({"type": "status", "message": "subscribed", "group_chat_id": group_chat_id})
        receiver = asyncio.create_task(_receive(websocket, send))
        done, _ = await asyncio.wait({forwarder, receiver}, return_when=asyncio.FIRST_COMPLETED)
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        if forwarder in done and forwarder.exception() is None and not forwarder.cancelled():
            # Removed from the chat, or the chat deleted: as for a chat that is not theirs.
            with contextlib.suppress(Exception):
                await websocket.close(code=NOT_FOUND_CLOSE, reason="no longer a member of this group chat")
        elif forwarder in done:  # the bus subscription broke: the client reconnects
            log.warning("group chat socket lost its subscription", extra={"group_chat_id": group_chat_id})
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
        await send(events.error_event(
            "read_only", "this socket only listens: post with POST /api/v1/group-chats/{id}/messages"
        ))


async def _refuse(websocket: WebSocket, code: int, event: dict[str, Any]) -> None:
    await websocket.send_json(event)
    await websocket.close(code=code, reason=event["message"].encode()[:123].decode(errors="ignore"))
