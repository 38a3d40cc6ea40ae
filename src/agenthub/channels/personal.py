"""The caller's own agent (seed 002): ``POST /api/v1/chat/message`` (SSE, exactly as
``POST /api/v1/agents/{id}/chat``), ``GET /api/v1/chat/history``, ``GET /api/v1/agent/status``
and ``POST /api/v1/agent/reset``. Users only (an API key gets 403). Each route makes the
caller's personal agent from the organisation's template when they have none yet (404
``no_template`` when there is no template); see :mod:`agenthub.access.personal`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from agenthub.access import personal
from agenthub.access.personal_api import client_address
from agenthub.access.personal_schemas import PersonalReset
from agenthub.access.rules import web_sender
from agenthub.agents.schemas import AgentStatusRead
from agenthub.channels.event_stream import EventStream
from agenthub.channels.sse import CHAT_RESPONSES, stream_answer
from agenthub.chats.models import MAX_POSITION
from agenthub.chats.schemas import CHAT_ID_PATTERN, ChatMessageList, ChatMessageRead, ChatRequest
from agenthub.deps import SessionDep, SessionFactoryDep, UserDep
from agenthub.gateway_deps import GatewayDep, SupervisorDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1", tags=["personal agents"], route_class=StrictJSONRoute)

PERSONAL_ERRORS = error_responses(403, 404, meanings={
    403: "Sent with an API key: a personal agent belongs to a user (or by a page of another site)",
    404: "The organisation names no template agent (`no_template`), so there is no personal agent to make",
})


async def _personal_agent_id(caller: UserDep, sessions: SessionFactoryDep, http: Request) -> str:
    """The caller's personal agent, made now when they have none. Its own session, committed
    before the route runs (a route's ``SessionDep`` takes its connection only when used)."""
    return await personal.ensure_personal_agent(sessions, caller=caller, address=client_address(http))


PersonalAgentId = Annotated[str, Depends(_personal_agent_id)]


@router.post(
    "/chat/message", response_class=EventStream, status_code=200, responses={**CHAT_RESPONSES, **PERSONAL_ERRORS},
)
async def chat_message(
    request: ChatRequest, agent_id: PersonalAgentId, caller: UserDep, gateway: GatewayDep, http: Request
) -> EventStream:
    """Talk to your personal agent; the answer streams as the agent chat's does. Without a
    `chat_id` the message goes on your one continuing conversation (`personal`). Who sends
    it is you: `channel` is `web` and `platform_user_id` your user id, whatever is sent."""
    sent = request.model_copy(update={
        "chat_id": request.chat_id or personal.MAIN_CHAT, "channel": "web", "platform_user_id": caller.user_id,
    })
    reach = await gateway.reach(
        caller=caller, agent_id=agent_id, sender=web_sender(caller, http.client.host if http.client else None)
    )
    return await stream_answer(
        gateway=gateway, reach=reach, request=sent, keepalive=http.app.state.settings.sse_keepalive_interval,
    )


@router.get("/chat/history", response_model=ChatMessageList, responses=PERSONAL_ERRORS)
async def chat_history(
    agent_id: PersonalAgentId,
    caller: UserDep,
    session: SessionDep,
    chat_id: Annotated[str, Query(pattern=CHAT_ID_PATTERN, description="The chat; yours by default")] = (
        personal.MAIN_CHAT
    ),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_position: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Only messages after this position")] = 0,
) -> ChatMessageList:
    """Your messages with your personal agent and its answers, oldest first, a page at a
    time (pass the last `position` as `after_position`); empty before the first message."""
    rows = await personal.history(
        session, caller=caller, agent_id=agent_id, chat_id=chat_id, limit=limit, after_position=after_position
    )
    return ChatMessageList(chat_id=chat_id, items=[ChatMessageRead.model_validate(row) for row in rows])


@router.get("/agent/status", response_model=AgentStatusRead, responses=PERSONAL_ERRORS)
async def agent_status(agent_id: PersonalAgentId, supervisor: SupervisorDep) -> AgentStatusRead:
    """Your personal agent's status, as `GET /api/v1/agents/{id}/status` shows an agent's."""
    return AgentStatusRead(**await supervisor.statuses.describe(agent_id))


@router.post("/agent/reset", response_model=PersonalReset, responses=PERSONAL_ERRORS)
async def reset_agent(
    agent_id: PersonalAgentId, caller: UserDep, session: SessionDep, supervisor: SupervisorDep, http: Request
) -> PersonalReset:
    """Make your personal agent forget: it is stopped (what it kept in memory goes), and all
    its chats and their messages are deleted. It starts afresh on your next message."""
    await supervisor.stop(agent_id)
    chats, messages = await personal.forget_chats(
        session, caller=caller, agent_id=agent_id, address=client_address(http)
    )
    status = await supervisor.statuses.describe(agent_id)
    return PersonalReset(agent_id=agent_id, chats_deleted=chats, messages_deleted=messages, status=status["status"])
