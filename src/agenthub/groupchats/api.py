"""Group chat routes: thin; the logic is in :mod:`agenthub.groupchats.service`. Posting a
message (it may ask an AI role through the gateway) is in
:mod:`agenthub.channels.group_chats`, with the live WebSocket.

Group chats are people's: an API key gets 403. Only members see one: for anyone else, of
the organisation or not, it is 404, as for one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Response, status
from starlette.requests import HTTPConnection

from agenthub.deps import BusDep, SessionDep, UserDep
from agenthub.groupchats import live, service
from agenthub.groupchats.schemas import (
    GroupChatCreate,
    GroupChatList,
    GroupChatRead,
    GroupChatUpdate,
    MembersAdd,
    MessageList,
    Validated,
    ValidateRequest,
)
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/group-chats", tags=["group chats"], route_class=StrictJSONRoute)
GroupChatId = Annotated[str, Path(max_length=64, description="The group chat's id")]
MessageId = Annotated[str, Path(max_length=64, description="The message's id")]
USERS_ONLY = {403: "Sent with an API key: group chats are people's"}
NOT_YOURS = {**USERS_ONLY, 404: "No group chat of that id that you are a member of"}


async def _agent_access(connection: HTTPConnection) -> service.AgentAccess:
    """Who may name which agent: the chat rules, which the app passes in."""
    access: service.AgentAccess = connection.app.state.group_chat_agent_access
    return access


AgentAccessDep = Annotated[service.AgentAccess, Depends(_agent_access)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=GroupChatRead,
    responses=error_responses(403, 404, meanings={
        **USERS_ONLY, 403: "Sent with an API key, or the agent needs an authorisation you don't have",
        404: "A `member_ids` entry is no user of your organisation, or `agent_id` no agent you may chat with",
    }),
)
async def create_group_chat(
    data: GroupChatCreate, caller: UserDep, session: SessionDep, agents: AgentAccessDep
) -> GroupChatRead:
    """A group chat of you and `member_ids`; `agent_id` (optional) answers the `@@role`
    mentions that name no agent of your organisation."""
    chat = await service.create(session, caller=caller, data=data, agents=agents)
    return (await service.read(session, [chat]))[0]


@router.get("", response_model=GroupChatList, responses=error_responses(403, meanings=USERS_ONLY))
async def list_group_chats(caller: UserDep, session: SessionDep) -> GroupChatList:
    """The group chats you are a member of, the newest first."""
    chats = await service.list_(session, caller=caller)
    return GroupChatList(items=await service.read(session, chats), total=len(chats))


@router.get("/{group_chat_id}", response_model=GroupChatRead, responses=error_responses(403, 404, meanings=NOT_YOURS))
async def get_group_chat(group_chat_id: GroupChatId, caller: UserDep, session: SessionDep) -> GroupChatRead:
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    return (await service.read(session, [chat]))[0]


@router.patch(
    "/{group_chat_id}", response_model=GroupChatRead,
    responses=error_responses(403, 404, meanings={
        **NOT_YOURS, 403: "Sent with an API key, or the agent needs an authorisation you don't have",
        404: "No group chat of yours by that id, or `agent_id` no agent you may chat with",
    }),
)
async def update_group_chat(
    group_chat_id: GroupChatId, data: GroupChatUpdate, caller: UserDep, session: SessionDep, agents: AgentAccessDep,
    bus: BusDep, after_commit: BackgroundTasks,
) -> GroupChatRead:
    """Rename the chat or change its agent; any member may."""
    # The agent first: its check has a session of its own (SQLite's one connection is free).
    agent_id = await agents(caller, data.agent_id) if data.agent_id else None
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    await service.change(session, chat=chat, data=data, agent_id=agent_id)
    read = (await service.read(session, [chat]))[0]
    after_commit.add_task(live.publish, bus, live.updated_event(read))
    return read


@router.delete(
    "/{group_chat_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
    responses=error_responses(403, 404, meanings={
        **NOT_YOURS, 403: "Sent with an API key, or you are neither its creator nor an owner or admin",
    }),
)
async def delete_group_chat(
    group_chat_id: GroupChatId, caller: UserDep, session: SessionDep, bus: BusDep, after_commit: BackgroundTasks,
) -> Response:
    """Delete the chat and its messages: its creator, or an owner or admin of the organisation, may."""
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    await service.delete_chat(session, caller=caller, chat=chat)
    after_commit.add_task(live.publish, bus, live.deleted_event(group_chat_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{group_chat_id}/members", response_model=GroupChatRead,
    responses=error_responses(403, 404, meanings={
        **NOT_YOURS, 404: "No group chat of yours by that id, or a `user_ids` entry is no user of your organisation",
    }),
)
async def add_members(
    group_chat_id: GroupChatId, data: MembersAdd, caller: UserDep, session: SessionDep, bus: BusDep,
    after_commit: BackgroundTasks,
) -> GroupChatRead:
    """Add users of your organisation; any member may. Adding a member twice changes nothing."""
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    await service.add_members(session, caller=caller, chat=chat, user_ids=data.user_ids)
    read = (await service.read(session, [chat]))[0]
    after_commit.add_task(live.publish, bus, live.updated_event(read))
    return read


@router.delete(
    "/{group_chat_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
    responses=error_responses(403, 404, meanings={
        **NOT_YOURS, 403: "Sent with an API key, or removing another member without being the chat's creator, "
        "an owner or an admin",
        404: "No group chat of yours by that id, or that user is no member of it",
    }),
)
async def remove_member(
    group_chat_id: GroupChatId, user_id: Annotated[str, Path(max_length=64, description="The member's user id")],
    caller: UserDep, session: SessionDep, bus: BusDep, after_commit: BackgroundTasks,
) -> Response:
    """Leave the chat (your own id), or remove a member (the chat's creator, owners and admins
    may). Their live sockets close; the chat is deleted when its last member leaves."""
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    emptied = await service.remove_member(session, caller=caller, chat=chat, user_id=user_id)
    after_commit.add_task(live.publish, bus, live.member_removed_event(group_chat_id, user_id))
    if emptied:
        after_commit.add_task(live.publish, bus, live.deleted_event(group_chat_id))
    else:
        read = (await service.read(session, [chat]))[0]
        after_commit.add_task(live.publish, bus, live.updated_event(read))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{group_chat_id}/messages", response_model=MessageList, responses=error_responses(403, 404, meanings=NOT_YOURS)
)
async def list_messages(
    group_chat_id: GroupChatId,
    caller: UserDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 100,
    after: Annotated[
        str | None, Query(max_length=64, description="A message's id: the messages after it (else the latest)")
    ] = None,
) -> MessageList:
    """The latest `limit` messages, or the `limit` after message `after`; oldest first. AI
    answers show whether a member has validated them (`ai_validated`)."""
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    rows = await service.messages(session, chat=chat, limit=limit, after=after)
    return MessageList(group_chat_id=chat.id, items=[service.read_message(m) for m in rows])


@router.post(
    "/{group_chat_id}/messages/{message_id}/validate", response_model=Validated,
    responses=error_responses(403, 404, 409, meanings={
        **NOT_YOURS, 404: "No such group chat of yours, or no such message in it",
        409: "A person's message (`not_an_ai_answer`), or an answer reviewed already (`already_validated`)",
    }),
)
async def validate_message(
    group_chat_id: GroupChatId, message_id: MessageId, data: ValidateRequest, caller: UserDep, session: SessionDep,
    bus: BusDep, after_commit: BackgroundTasks,
) -> Validated:
    """Review an AI role's answer: `approve` it, `edit` it (`content` replaces it), both
    making `ai_validated` true, or `reject` it (it is removed). Any member may."""
    chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
    message = await service.validate(session, caller=caller, chat=chat, message_id=message_id, data=data)
    # The members are told once it is committed (the session commits as the route returns).
    if message is None:
        after_commit.add_task(live.publish, bus, live.removed_event(chat.id, message_id))
        return Validated(action=data.action, message=None)
    read = service.read_message(message)
    after_commit.add_task(live.publish, bus, live.message_event("message_updated", read))
    return Validated(action=data.action, message=read)
