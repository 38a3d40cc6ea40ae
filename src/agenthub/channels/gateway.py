"""The gateway's half of a conversation: store the inbound message, make sure the agent
runs, put the message on the agent's input stream, and follow the answer on its output
channel. Used by the WebSocket and the SSE endpoints alike."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from agenthub.agents import service as agents_service
from agenthub.bus import Bus, Subscription, keys
from agenthub.chats import service as chats_service
from agenthub.chats.schemas import ChatRequest
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.ops.metrics import Metrics
from agenthub.runtime.supervisor import Supervisor

START_ALLOWANCE = 30.0


@dataclass(frozen=True)
class Accepted:
    message_id: str
    chat_id: str
    agent_started: bool
    at: float


class Gateway:
    def __init__(
        self,
        *,
        bus: Bus,
        session_factory: SessionFactory,
        supervisor: Supervisor,
        metrics: Metrics,
        settings: Settings,
    ) -> None:
        self._bus = bus
        self._sessions = session_factory
        self._supervisor = supervisor
        self._metrics = metrics
        self._settings = settings

    async def check_agent(self, *, org_id: str, agent_id: str) -> None:
        """Raise NotFound unless the organisation has this agent."""
        async with self._sessions() as session:
            await agents_service.get(session, org_id=org_id, agent_id=agent_id)

    async def listen(self, agent_id: str) -> Subscription:
        """Subscribe to the agent's output; do it before :meth:`accept` so no reply is missed."""
        return await self._bus.subscribe(keys.agent_output(agent_id))

    async def accept(
        self,
        *,
        org_id: str,
        agent_id: str,
        request: ChatRequest,
        chat_id: str | None = None,
        message_id: str | None = None,
    ) -> Accepted:
        """Store the message, start the agent if needed and put the message on its input.
        A caller that relays output concurrently passes its own ``message_id`` so it can
        recognise the answer's first events, which may arrive before this returns."""
        message_id = message_id or uuid.uuid4().hex
        chat = request.chat_id or chat_id or uuid.uuid4().hex
        async with session_scope(self._sessions) as session:
            await agents_service.get(session, org_id=org_id, agent_id=agent_id)
            await chats_service.record_inbound(
                session,
                org_id=org_id,
                agent_id=agent_id,
                chat_id=chat,
                message_id=message_id,
                content=request.content,
                channel=request.channel,
                platform_user_id=request.platform_user_id,
            )
        started = await self._supervisor.ensure_running(agent_id)
        await self._bus.add(keys.agent_input(agent_id), {
            "message_id": message_id,
            "agent_id": agent_id,
            "chat_id": chat,
            "text": request.content,
            "platform_user_id": request.platform_user_id,
            "user_data": request.user_data,
            "channel": request.channel,
        })
        self._metrics.messages.labels("in", request.channel).inc()
        return Accepted(message_id=message_id, chat_id=chat, agent_started=started, at=time.perf_counter())

    async def follow(
        self, subscription: Subscription, accepted: Accepted
    ) -> AsyncIterator[dict[str, Any]]:
        """The events answering one message: chunks, then one message or error."""
        deadline = time.monotonic() + self._settings.turn_timeout + START_ALLOWANCE
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                yield {
                    "type": "error",
                    "reply_to": accepted.message_id,
                    "chat_id": accepted.chat_id,
                    "response": "Timed out waiting for the agent; the message is kept and will be answered.",
                }
                return
            event = await subscription.get(timeout=remaining)
            if event is None or event.get("reply_to") != accepted.message_id:
                continue
            yield event
            if event.get("type") in ("message", "error"):
                self.observe(event, accepted)
                return

    def observe(self, event: dict[str, Any], accepted: Accepted) -> None:
        if event.get("type") == "message":
            self._metrics.turn_latency.observe(time.perf_counter() - accepted.at)
            self._metrics.messages.labels("out", event.get("channel", "web")).inc()
