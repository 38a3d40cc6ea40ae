"""Chat history routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId
from agenthub.agents.models import Agent
from agenthub.caller import Caller
from agenthub.chats import service
from agenthub.chats.models import MAX_POSITION
from agenthub.chats.schemas import (
    CHAT_ID_PATTERN,
    MESSAGE_ID_PATTERN,
    ChatMessageList,
    ChatMessageRead,
    ChatSummaryList,
    ChatSummaryRead,
    StopRead,
)
from agenthub.deps import BusDep, CallerDep, SessionDep
from agenthub.errors import Forbidden, NotFound

router = APIRouter(prefix="/api/v1/agents", tags=["chats"])


async def _readable_agent(session: AsyncSession, caller: Caller, agent_id: str) -> Agent:
    """The agent whose chats the caller may read: the organisation's (404 otherwise), not
    another member's personal agent (403; the rule of agenthub.access.personal.check_reach)."""
    agent = await agents_service.get(session, org_id=caller.org_id, agent_id=agent_id)
    if agent.owner_user_id is not None and agent.owner_user_id != caller.user_id:
        raise Forbidden(f"{agent_id!r} is a member's personal agent: only that member may read its chats")
    return agent


@router.get("/{agent_id}/chats", response_model=ChatSummaryList)
async def list_chats(
    agent_id: AgentId,
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    user: Annotated[
        Literal["all"] | None,
        Query(description="`all`: every member's chats (owners and admins); by default only the caller's own"),
    ] = None,
) -> ChatSummaryList:
    """The chats the caller wrote in (with ``?user=all``, for owners and admins: everyone's), the
    most recently active first, each with the start of its first message as its title."""
    agent = await _readable_agent(session, caller, agent_id)
    if user == "all" and (caller.api_key_id is not None or not caller.at_least("admin")):
        raise Forbidden("only owners and admins may list every member's chats (user=all)")
    # Who wrote a message over the web: the API key's id, else the user's (access.rules.web_sender).
    sender = None if user == "all" else caller.api_key_id or caller.user_id or ""
    chats, total = await service.list_chats(
        session, org_id=caller.org_id, agent_id=agent.id, sender=sender, limit=limit, offset=offset
    )
    return ChatSummaryList(items=[ChatSummaryRead.model_validate(c) for c in chats], total=total)


@router.get("/{agent_id}/chats/{chat_id}/messages", response_model=ChatMessageList)
async def list_chat_messages(
    agent_id: AgentId,
    chat_id: Annotated[str, Path(pattern=CHAT_ID_PATTERN)],
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_position: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Only messages after this position")] = 0,
) -> ChatMessageList:
    org_id = caller.org_id
    agent = await _readable_agent(session, caller, agent_id)
    if not await service.chat_exists(session, org_id=org_id, agent_id=agent.id, chat_id=chat_id):
        raise NotFound(f"chat {chat_id!r} not found for agent {agent_id!r}")
    rows = await service.list_messages(
        session, org_id=org_id, agent_id=agent.id, chat_id=chat_id, limit=limit, after_position=after_position
    )
    return ChatMessageList(chat_id=chat_id, items=[ChatMessageRead.model_validate(r) for r in rows])


@router.post("/{agent_id}/chats/{chat_id}/messages/{message_id}/stop", response_model=StopRead)
async def stop_answer(
    agent_id: AgentId,
    chat_id: Annotated[str, Path(pattern=CHAT_ID_PATTERN)],
    message_id: Annotated[str, Path(pattern=MESSAGE_ID_PATTERN)],
    session: SessionDep,
    caller: CallerDep,
    bus: BusDep,
) -> StopRead:
    """Stop the answer to a user's message: what was written of it so far becomes the answer."""
    agent = await _readable_agent(session, caller, agent_id)
    stopping = await service.request_stop(
        session, bus, org_id=caller.org_id, agent_id=agent.id, chat_id=chat_id, message_id=message_id
    )
    return StopRead(message_id=message_id, stopping=stopping)
