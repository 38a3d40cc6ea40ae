"""WebSocket ``/ws/agents/{agent_id}`` with the seed protocol.

Client: ``{"type": "message", "content": "...", "chat_id"?, "user_data"?, "channel"?}``.
Server: ``status`` (received / starting), ``chunk`` while streaming, ``message`` with the
answer, its ``chat_id`` and its ``message_object``, ``error`` with a ``code``, and any other
event type the agent emits, unchanged. Without a ``chat_id`` one connection is one chat
(``?chat_id=`` names it). ``?chat_id=...&after=<message id>`` first replays, in order, the
answers and errors of that chat after the named message (see :mod:`agenthub.channels.replay`).
A connection that sends no complete message for ``WS_IDLE_TIMEOUT`` seconds while no
answer is awaited is closed with 4408.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from agenthub.caller import Caller
from agenthub.channels import events
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.channels.replay import Replay, UnknownMessage
from agenthub.chats.schemas import CHAT_ID_PATTERN, ChatRequest
from agenthub.deps import CallerDep
from agenthub.errors import AgentHubError, ServiceUnavailable, is_unavailable, plain_problem
from agenthub.json_input import InvalidJSON, not_json, parse_json

router = APIRouter()
log = logging.getLogger(__name__)

MAX_MESSAGE_ID = 64
NOT_FOUND_CLOSE = 4404
"""Close code for an unknown agent, or an ``after`` its chat doesn't have."""
BAD_QUERY_CLOSE = 4400
IDLE_CLOSE = 4408
"""Close code for an idle connection (as HTTP's 408 Request Timeout)."""


class _Connection:
    def __init__(
        self,
        websocket: WebSocket,
        gateway: Gateway,
        agent_id: str,
        listener: Listener,
        caller: Caller,
        *,
        chat_id: str | None = None,
        idle_timeout: float,
    ) -> None:
        self.websocket = websocket
        self.caller = caller
        self.gateway = gateway
        self.agent_id = agent_id
        self.listener = listener
        self.chat_id = chat_id or uuid.uuid4().hex
        self.idle_timeout = idle_timeout
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
        await self.websocket.send_json(events.for_websocket(event))
        if final:
            self.waiting.pop(accepted.message_id, None)
            if event.get("message_id"):
                self.delivered.add(event["message_id"])
            self.gateway.finish(event, accepted, self.listener)

    async def replay(self, missed: Replay) -> None:
        """Send what the client missed; then wait for the answers still to come. Runs
        before :meth:`forward`: events that come meanwhile wait in the listener."""
        now = time.perf_counter()
        for message_id in missed.waiting:
            self.waiting[message_id] = Accepted(message_id, self.chat_id, agent_started=False, at=now)
        async with self.send_lock:
            for event in missed.events:
                await self.websocket.send_json(events.for_websocket(event))
                if event.get("message_id"):
                    self.delivered.add(str(event["message_id"]))

    async def _receive_text(self) -> str | None:
        """The next text frame; None for a binary one (not part of the protocol). A client
        that sends no complete message for ``idle_timeout`` seconds while it waits for no
        answer is idle: :class:`_Idle` is raised."""
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), self.idle_timeout)
                break
            except TimeoutError:
                if not self.waiting and not self.early:
                    raise _Idle from None
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
                await self.send(events.error_event("invalid_input", f"invalid message: {_short(error)}"))
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
                await self.send(events.error_event(error.code, error.message))
                continue
            except Exception as error:  # noqa: BLE001 - the client gets an error, the socket lives on
                self.early.pop(message_id, None)
                if is_unavailable(error):
                    log.warning("message not accepted: %s", type(error).__name__, extra={"agent_id": self.agent_id})
                    code = "unavailable"
                    reason = "the service is temporarily unavailable; the message was not accepted, send it again"
                else:
                    log.exception("accepting a message failed", extra={"agent_id": self.agent_id})
                    code, reason = "internal", "internal error: the message was not accepted"
                await self.send(events.error_event(code, reason))
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
                    await self.websocket.send_json({
                        "type": "status", "message": "Agent is starting…",
                        "chat_id": accepted.chat_id, "reply_to": accepted.message_id,
                    })
                for event in self.early.pop(message_id, []):
                    await self._relay(event)


class _Idle(Exception):  # noqa: N818 - a condition, not a failure
    """The client sent nothing for too long."""


def _close_reason(message: str) -> str:
    """A close frame's reason holds at most 123 bytes of UTF-8."""
    return message.encode()[:123].decode(errors="ignore")


def _short(error: Exception) -> str:
    """Why a frame was refused, in the words REST uses for the same mistake."""
    if isinstance(error, InvalidJSON):  # valid JSON: where in the text it is says nothing
        return error.msg
    if isinstance(error, json.JSONDecodeError):
        return not_json(error, "frame")
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        return f"{where}: {plain_problem(first['msg'])}"
    return str(error)


@router.websocket("/ws/agents/{agent_id}")
async def agent_socket(
    websocket: WebSocket, agent_id: str, caller: CallerDep, chat_id: str | None = None, after: str | None = None
) -> None:
    gateway: Gateway = websocket.app.state.gateway
    settings = websocket.app.state.settings
    await websocket.accept()  # pages of other sites were refused before (channels/origins.py)
    problem = _query_problem(chat_id, after)
    if problem:
        await _refuse(websocket, BAD_QUERY_CLOSE, events.error_event("invalid_input", problem))
        return
    try:
        # Once per connection, from the database: a socket to an agent deleted through any
        # gateway is refused at once, and one opened while the database is away gets 1013.
        await gateway.check_agent(org_id=caller.org_id, agent_id=agent_id, fresh=True)
        listener = await gateway.listen(agent_id)
    except Exception as error:
        if isinstance(error, AgentHubError) and not isinstance(error, ServiceUnavailable):
            await _refuse(websocket, NOT_FOUND_CLOSE, events.error_event(error.code, error.message))
            return
        if not (is_unavailable(error) or isinstance(error, ServiceUnavailable)):
            raise
        await _refuse_unavailable(websocket)
        return
    connection = _Connection(
        websocket, gateway, agent_id, listener, caller, chat_id=chat_id, idle_timeout=settings.ws_idle_timeout
    )
    forwarder: asyncio.Task[None] | None = None
    try:
        if after is not None and chat_id:
            if not await _replay(connection, chat_id=chat_id, after=after):
                return
        forwarder = asyncio.create_task(connection.forward())
        await connection.receive()
    except WebSocketDisconnect:
        pass
    except _Idle:
        with contextlib.suppress(Exception):  # the client may be gone as well
            await websocket.close(code=IDLE_CLOSE, reason="idle: no message received in time")
    finally:
        if forwarder is not None:
            forwarder.cancel()
            await asyncio.gather(forwarder, return_exceptions=True)
        await listener.close()


def _query_problem(chat_id: str | None, after: str | None) -> str | None:
    if chat_id is not None and not re.fullmatch(CHAT_ID_PATTERN, chat_id):
        return f"chat_id must match {CHAT_ID_PATTERN}"
    if after is not None and not chat_id:
        return "after needs chat_id"
    if after is not None and not (0 < len(after) <= MAX_MESSAGE_ID):
        return f"after must be a message id of 1 to {MAX_MESSAGE_ID} characters"
    return None


async def _replay(connection: _Connection, *, chat_id: str, after: str) -> bool:
    """Send what the client missed; False when the connection was closed instead."""
    try:
        missed = await connection.gateway.missed(
            org_id=connection.caller.org_id, agent_id=connection.agent_id, chat_id=chat_id, after=after,
            listener=connection.listener,
        )
    except UnknownMessage as error:
        await _refuse(connection.websocket, NOT_FOUND_CLOSE, events.error_event(error.code, error.message))
        return False
    except Exception as error:
        if not is_unavailable(error):
            raise
        await _refuse_unavailable(connection.websocket)
        return False
    await connection.replay(missed)
    return True


async def _refuse(websocket: WebSocket, code: int, event: dict[str, Any]) -> None:
    """Say why in an error event, then close with ``code``."""
    await websocket.send_json(event)
    await websocket.close(code=code, reason=_close_reason(event["message"]))


async def _refuse_unavailable(websocket: WebSocket) -> None:
    """The database or the bus is down: close with 1013, try again later."""
    await websocket.send_json(
        events.error_event("unavailable", "the service is temporarily unavailable; reconnect later")
    )
    await websocket.close(code=1013, reason="try again later")
