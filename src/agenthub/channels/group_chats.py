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
not); 1013 when the database or the bus is down (reconnect later). A member removed (or the
chat deleted) gets that event, then a close 4404. The socket is
:mod:`agenthub.channels.live_sockets`'s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, WebSocket, status
from starlette.requests import HTTPConnection

from agenthub.bus import keys
from agenthub.caller import Caller
from agenthub.channels.group_chat_flows import GroupChatRoles
from agenthub.channels.live_sockets import LiveSocket, serve
from agenthub.deps import SocketCallerDep, UserDep
from agenthub.errors import Forbidden
from agenthub.groupchats import live, service
from agenthub.groupchats.schemas import MessageCreate, MessageRead
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(tags=["group chats"], route_class=StrictJSONRoute)

GroupChatId = Annotated[str, Path(max_length=64, description="The group chat's id")]


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
    async def check(caller: Caller) -> None:
        if not caller.is_user:
            raise Forbidden("group chats are people's: connect with a user's access token, not an API key")
        async with websocket.app.state.session_factory() as session:
            await service.get(session, caller=caller, group_chat_id=group_chat_id)

    user_id = credentials.user_id if isinstance(credentials, Caller) else None
    await serve(websocket, credentials, LiveSocket(
        name="group-chat", check=check, key=keys.group_chat_events(group_chat_id),
        subscribed={"group_chat_id": group_chat_id},
        read_only="this socket only listens: post with POST /api/v1/group-chats/{id}/messages",
        ends=lambda event: live.ends_membership(event, user_id), ended="no longer a member of this group chat",
    ))
