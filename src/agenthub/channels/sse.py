"""HTTP streaming: ``POST /api/v1/agents/{agent_id}/chat`` answers as Server-Sent Events: first a
``status`` ``received`` with the message's ``message_id`` and ``chat_id``, then ``chunk``,
``message``, ``usage``, ``error`` and finally ``done`` (and, unchanged, any other event type
the agent emits), through :class:`~agenthub.channels.event_stream.EventStream`. A comment
line (``: ping``) goes out whenever the agent has sent nothing for ``SSE_KEEPALIVE_INTERVAL``
seconds, so proxies and clients that drop a silent connection keep it through a turn that
takes minutes."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Request

from agenthub.access.rules import Reach, web_sender
from agenthub.agents.api import AgentId
from agenthub.channels import events
from agenthub.channels.event_stream import KEEPALIVE, EventStream, encode_event
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.deps import MaybeCallerDep, SettingsDep
from agenthub.gateway_deps import GatewayDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import BEARER_OR_ANONYMOUS, error_responses

router = APIRouter(prefix="/api/v1/agents", tags=["chat"], route_class=StrictJSONRoute)

_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
"""What an event type passed through must look like to name an SSE event."""


async def _events(
    gateway: Gateway, listener: Listener, accepted: Accepted, *, keepalive: float
) -> AsyncGenerator[bytes, None]:
    """The answer's events; the listener is closed by the response (``on_close``)."""
    ids = {"message_id": accepted.message_id, "chat_id": accepted.chat_id}
    yield encode_event("status", {"message": "received", **ids})  # where to find the answer if the stream drops
    if accepted.agent_started:
        about = {"chat_id": accepted.chat_id, "reply_to": accepted.message_id}
        yield encode_event("status", {"message": "Agent is starting…", **about})
    async for event in gateway.follow(listener, accepted, keepalive=keepalive):
        if event is None:
            yield KEEPALIVE
            continue
        for name, data in events.for_sse(event):
            if _EVENT_NAME.fullmatch(name):
                yield encode_event(name, data)
    yield encode_event("done", ids)


CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "The answer as events"},
    **error_responses(402, 409, meanings={409: "The agent kept failing and was stopped (`agent_failed`): "
                                     "start it again, or wait for its cool-down (AGENT_ERROR_COOLDOWN)"}),
}
"""``responses=`` of a route that answers with :func:`stream_answer`."""


async def stream_answer(
    *, gateway: Gateway, reach: Reach, request: ChatRequest, keepalive: float
) -> EventStream:
    """Send ``request`` to the agent and answer with its events: what every chat route over
    SSE returns once the caller's reach of the agent is checked (:meth:`Gateway.reach`)."""
    listener, accepted = await gateway.send(reach=reach, request=request)
    return EventStream(
        _events(gateway, listener, accepted, keepalive=keepalive),
        headers={"X-Chat-Id": accepted.chat_id, "X-Message-Id": accepted.message_id},
        on_close=listener.close,
    )


@router.post(
    "/{agent_id}/chat", response_class=EventStream, status_code=200, openapi_extra=BEARER_OR_ANONYMOUS,
    responses=CHAT_RESPONSES,
)
async def chat(
    agent_id: AgentId, request: ChatRequest, gateway: GatewayDep, caller: MaybeCallerDep, settings: SettingsDep,
    http: Request,
) -> EventStream:
    """Anybody may chat with a `public` agent, without credentials too; a member of the
    agent's organisation with an `organization` one; an authorised user or key with an
    `authorized` one. A refusal (401, 403, 404) is a JSON error before any stream."""
    sender = web_sender(caller, http.client.host if http.client else None)
    reach = await gateway.reach(caller=caller, agent_id=agent_id, sender=sender)
    return await stream_answer(
        gateway=gateway, reach=reach, request=request, keepalive=settings.sse_keepalive_interval
    )
