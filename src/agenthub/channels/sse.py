"""HTTP streaming: ``POST /api/v1/agents/{agent_id}/chat`` answers as Server-Sent Events
``chunk``, ``message``, ``usage``, ``error`` and finally ``done``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from agenthub.agents.api import AgentId
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.deps import CallerDep
from agenthub.gateway_deps import GatewayDep
from agenthub.json_input import StrictJSONRoute

router = APIRouter(prefix="/api/v1/agents", tags=["chat"], route_class=StrictJSONRoute)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(gateway: Gateway, listener: Listener, accepted: Accepted) -> AsyncIterator[str]:
    try:
        if accepted.agent_started:
            yield _event("status", {"message": "Agent is starting…"})
        async for event in gateway.follow(listener, accepted):
            kind = event.get("type")
            if kind == "chunk":
                yield _event("chunk", {"content": event.get("content", "")})
            elif kind == "status":
                yield _event("status", {"message": event.get("message", "")})
            elif kind == "message":
                yield _event("message", {
                    "message_id": event["message_id"],
                    "reply_to": event["reply_to"],
                    "chat_id": event["chat_id"],
                    "content": event["response"],
                })
                yield _event("usage", event.get("usage") or {})
            elif kind == "error":
                yield _event("error", {"message": event.get("response", "error")})
        yield _event("done", {"message_id": accepted.message_id, "chat_id": accepted.chat_id})
    finally:
        await listener.close()


@router.post(
    "/{agent_id}/chat",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The answer as events"}},
)
async def chat(agent_id: AgentId, request: ChatRequest, gateway: GatewayDep, caller: CallerDep) -> StreamingResponse:
    org_id = caller.org_id
    await gateway.check_agent(org_id=org_id, agent_id=agent_id)
    listener = await gateway.listen(agent_id)
    try:
        accepted = await gateway.accept(org_id=org_id, agent_id=agent_id, request=request, listener=listener)
    except BaseException:
        await listener.close()
        raise
    return StreamingResponse(
        _events(gateway, listener, accepted),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Chat-Id": accepted.chat_id, "X-Message-Id": accepted.message_id},
    )
