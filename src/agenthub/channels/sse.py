"""HTTP streaming: ``POST /api/v1/agents/{agent_id}/chat`` answers as Server-Sent Events: first a
``status`` ``received`` with the message's ``message_id`` and ``chat_id``, then ``chunk``, ``message``, ``usage``, ``error`` and finally ``done`` (and, unchanged, any other
event type the agent emits), through sse-starlette. A comment line (``: ping``) goes out
every ``SSE_KEEPALIVE_INTERVAL`` seconds while the agent thinks, so proxies and clients
that drop a silent connection keep it through a turn that takes minutes."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from agenthub.access.rules import Reach, web_sender
from agenthub.agents.api import AgentId
from agenthub.channels import events
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.deps import MaybeCallerDep
from agenthub.gateway_deps import GatewayDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import BEARER_OR_ANONYMOUS, error_responses

router = APIRouter(prefix="/api/v1/agents", tags=["chat"], route_class=StrictJSONRoute)

_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
"""What an event type passed through must look like to name an SSE event."""


def _event(name: str, data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(event=name, data=json.dumps(data, ensure_ascii=False))


async def _events(gateway: Gateway, listener: Listener, accepted: Accepted) -> AsyncIterator[ServerSentEvent]:
    try:
        ids = {"message_id": accepted.message_id, "chat_id": accepted.chat_id}
        yield _event("status", {"message": "received", **ids})  # where to find the answer if the stream drops
        if accepted.agent_started:
            about = {"chat_id": accepted.chat_id, "reply_to": accepted.message_id}
            yield _event("status", {"message": "Agent is starting…", **about})
        async for event in gateway.follow(listener, accepted):
            for name, data in events.for_sse(event):
                if _EVENT_NAME.fullmatch(name):
                    yield _event(name, data)
        yield _event("done", {"message_id": accepted.message_id, "chat_id": accepted.chat_id})
    finally:
        await listener.close()


CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "The answer as events"},
    **error_responses(402, 409, meanings={409: "The agent kept failing and was stopped (`agent_failed`): "
                                     "start it again, or wait for its cool-down (AGENT_ERROR_COOLDOWN)"}),
}
"""``responses=`` of a route that answers with :func:`stream_answer`."""


async def stream_answer(
    *, gateway: Gateway, reach: Reach, request: ChatRequest, keepalive: float
) -> EventSourceResponse:
    """Send ``request`` to the agent and answer with its events: what every chat route over
    SSE returns once the caller's reach of the agent is checked (:meth:`Gateway.reach`)."""
    listener = await gateway.listen(reach.agent_id)
    try:
        accepted = await gateway.accept(reach=reach, request=request, listener=listener)
    except BaseException:
        await listener.close()
        raise
    return EventSourceResponse(
        _events(gateway, listener, accepted),
        ping=keepalive,
        headers={"Cache-Control": "no-cache", "X-Chat-Id": accepted.chat_id, "X-Message-Id": accepted.message_id},
    )


@router.post(
    "/{agent_id}/chat", response_class=EventSourceResponse, openapi_extra=BEARER_OR_ANONYMOUS,
    responses=CHAT_RESPONSES,
)
async def chat(
    agent_id: AgentId, request: ChatRequest, gateway: GatewayDep, caller: MaybeCallerDep, http: Request
) -> EventSourceResponse:
    """Anybody may chat with a `public` agent, without credentials too; a member of the
    agent's organisation with an `organization` one; an authorised user or key with an
    `authorized` one. A refusal (401, 403, 404) is a JSON error before any stream."""
    sender = web_sender(caller, http.client.host if http.client else None)
    reach = await gateway.reach(caller=caller, agent_id=agent_id, sender=sender)
    return await stream_answer(
        gateway=gateway, reach=reach, request=request, keepalive=http.app.state.settings.sse_keepalive_interval,
    )
