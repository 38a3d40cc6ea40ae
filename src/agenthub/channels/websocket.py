"""WebSocket ``/ws/agents/{agent_id}`` with the seed protocol.

Client: ``{"type": "message", "content": "...", "chat_id"?, "user_data"?, "channel"?}``.
Server: ``status`` (received / starting), ``chunk`` while streaming, ``message`` with the
answer and its ``message_object``, ``error``. Without a ``chat_id`` one connection is one
chat.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from agenthub.caller import Caller
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.deps import CallerDep
from agenthub.errors import AgentHubError, is_unavailable
from agenthub.json_input import InvalidJSON, parse_json

router = APIRouter()
log = logging.getLogger(__name__)


def _client_event(event: dict[str, Any]) -> dict[str, Any]:
    kind = event.get("type")
    if kind == "chunk":
        return {"type": "chunk", "content": event.get("content", ""), "chat_id": event.get("chat_id")}
    if kind == "status":
        return {"type": "status", "message": event.get("message", ""), "chat_id": event.get("chat_id")}
    if kind == "message":
        return {
            "type": "message",
            "content": event.get("response", ""),
            "message_object": {
                "message_id": event.get("message_id"),
                "reply_to": event.get("reply_to"),
                "chat_id": event.get("chat_id"),
                "channel": event.get("channel"),
                "usage": event.get("usage"),
            },
        }
    return {"type": "error", "message": event.get("response", "error"), "chat_id": event.get("chat_id")}


class _Connection:
    def __init__(
        self, websocket: WebSocket, gateway: Gateway, agent_id: str, listener: Listener, caller: Caller
    ) -> None:
        self.websocket = websocket
        self.caller = caller
        self.gateway = gateway
        self.agent_id = agent_id
        self.listener = listener
        self.chat_id = uuid.uuid4().hex
        self.waiting: dict[str, Accepted] = {}
        # Output for a message being accepted: the agent may answer before accept()
        # returns (a busy gateway, a fast runner); held until "received" has been sent.
        self.early: dict[str, list[dict[str, Any]]] = {}
        self.delivered: set[str] = set()
        self.send_lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_json(payload)

    async def forward(self) -> None:
        """Relay output events that answer this connection's messages."""
        async for event in self.listener:
            reply_to = str(event.get("reply_to"))
            if reply_to in self.early:
                self.early[reply_to].append(event)
            elif reply_to in self.waiting:
                async with self.send_lock:
                    await self._relay(event)

    async def _relay(self, event: dict[str, Any]) -> None:
        """Send one output event; the caller holds the send lock."""
        accepted = self.waiting.get(str(event.get("reply_to")))
        if accepted is None:
            return  # answered already
        final = event.get("type") in ("message", "error")
        if final and event.get("message_id") in self.delivered:
            return  # the same answer published again after a redelivery
        await self.websocket.send_json(_client_event(event))
        if final:
            self.waiting.pop(accepted.message_id, None)
            if event.get("message_id"):
                self.delivered.add(event["message_id"])
            self.gateway.finish(event, accepted, self.listener)

    async def _receive_text(self) -> str | None:
        """The next text frame; None for a binary one (not part of the protocol)."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message.get("text")

    async def receive(self) -> None:
        while True:
            raw = await self._receive_text()
            try:
                if raw is None:
                    raise ValueError("expected a text frame holding JSON")
                data = parse_json(raw)
                if not isinstance(data, dict) or data.get("type") != "message":
                    raise ValueError('expected {"type": "message", "content": "..."}')
                request = ChatRequest.model_validate({k: v for k, v in data.items() if k != "type"})
            except (ValueError, ValidationError) as error:
                await self.send({"type": "error", "message": f"invalid message: {_short(error)}"})
                continue
            message_id = uuid.uuid4().hex
            self.early[message_id] = []
            try:
                accepted = await self.gateway.accept(
                    org_id=self.caller.org_id, agent_id=self.agent_id, request=request,
                    listener=self.listener, chat_id=self.chat_id, message_id=message_id,
                )
            except AgentHubError as error:
                self.early.pop(message_id, None)
                await self.send({"type": "error", "message": error.message})
                continue
            except Exception as error:  # noqa: BLE001 - the client gets an error, the socket lives on
                self.early.pop(message_id, None)
                if is_unavailable(error):
                    log.warning("message not accepted: %s", type(error).__name__, extra={"agent_id": self.agent_id})
                    reason = "the service is temporarily unavailable; the message was not accepted, send it again"
                else:
                    log.exception("accepting a message failed", extra={"agent_id": self.agent_id})
                    reason = "internal error: the message was not accepted"
                await self.send({"type": "error", "message": reason})
                continue
            except BaseException:
                self.early.pop(message_id, None)
                raise
            async with self.send_lock:
                self.waiting[message_id] = accepted
                await self.websocket.send_json({
                    "type": "status", "message": "received",
                    "message_id": accepted.message_id, "chat_id": accepted.chat_id,
                })
                if accepted.agent_started:
                    await self.websocket.send_json({"type": "status", "message": "Agent is starting…"})
                for event in self.early.pop(message_id, []):
                    await self._relay(event)


def _close_reason(message: str) -> str:
    """A close frame's reason holds at most 123 bytes of UTF-8."""
    return message.encode()[:123].decode(errors="ignore")


def _short(error: Exception) -> str:
    if isinstance(error, InvalidJSON):  # valid JSON: where in the text it is says nothing
        return error.msg
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        return f"{where}: {first['msg']}"
    return str(error)


@router.websocket("/ws/agents/{agent_id}")
async def agent_socket(websocket: WebSocket, agent_id: str, caller: CallerDep) -> None:
    gateway: Gateway = websocket.app.state.gateway
    await websocket.accept()  # pages of other sites were refused before (channels/origins.py)
    try:
        await gateway.check_agent(org_id=caller.org_id, agent_id=agent_id)
    except AgentHubError as error:
        await websocket.send_json({"type": "error", "message": error.message})
        await websocket.close(code=4404, reason=_close_reason(error.message))
        return
    try:
        listener = await gateway.listen(agent_id)
    except Exception as error:
        if not is_unavailable(error):
            raise
        await websocket.send_json({"type": "error", "message": "the service is temporarily unavailable; reconnect later"})
        await websocket.close(code=1013, reason="try again later")
        return
    connection = _Connection(websocket, gateway, agent_id, listener, caller)
    forwarder = asyncio.create_task(connection.forward())
    try:
        await connection.receive()
    except WebSocketDisconnect:
        pass
    finally:
        forwarder.cancel()
        await asyncio.gather(forwarder, return_exceptions=True)
        await listener.close()
