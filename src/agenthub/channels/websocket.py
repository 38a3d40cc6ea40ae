"""WebSocket ``/ws/agents/{agent_id}`` with the seed protocol.

Client: ``{"type": "message", "content": "...", "chat_id"?, "user_data"?, "channel"?, "button"?}``
(``button``: the value of the button pressed, sent as ``content`` too).
Server: ``status`` (received / starting), ``chunk`` while streaming, ``message`` with the
answer, its ``chat_id`` and its ``message_object`` (a scenario bot's buttons in ``widget``; a
message followed by more answering the same one carries ``"more": true``), ``error`` with a ``code``, and any other
event type the agent emits, unchanged. Without a ``chat_id`` one connection is one chat
(``?chat_id=`` names it). ``?chat_id=...&after=<message id>`` first replays, in order, the
answers and errors of that chat after the named message (see :mod:`agenthub.channels.replay`).
A connection that sends no complete message for ``WS_IDLE_TIMEOUT`` seconds while no
answer is awaited is closed with 4408.

Who may connect is the agent's ``settings.access`` (see :mod:`agenthub.access.rules`),
checked once, when the socket opens: a refusal is an ``error`` event, then a close with
4401 (credentials not valid, or none for an agent that is not public), 4403 (``forbidden``:
not authorised) or 4404 (not found). The messages are from the caller, whatever
``channel`` or ``user_data`` they carry.
answer is awaited is closed with 4408. Each message counts against its caller's rate limit
(:mod:`agenthub.channels.rate_limits`): one over it gets an ``error`` event ``rate_limited``
with ``retry_after`` (seconds) and is not taken; the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from agenthub.access.rules import Reach, web_sender
from agenthub.caller import Caller, client_address
from agenthub.channels import events
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.channels.rate_limits import RateLimiter
from agenthub.channels.replay import Replay, UnknownMessage
from agenthub.chats.schemas import CHAT_ID_PATTERN, ChatRequest
from agenthub.chats.service import PUSH_PREFIX
from agenthub.deps import SocketCallerDep
from agenthub.errors import (
    AgentHubError,
    Forbidden,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    is_unavailable,
    plain_problem,
)
from agenthub.json_input import InvalidJSON, not_json, parse_json

router = APIRouter()
log = logging.getLogger(__name__)

MAX_MESSAGE_ID = 64
NOT_FOUND_CLOSE = 4404
"""Close code for an unknown agent, or an ``after`` its chat doesn't have."""
BAD_QUERY_CLOSE = 4400
IDLE_CLOSE = 4408
"""Close code for an idle connection (as HTTP's 408 Request Timeout)."""
UNAUTHORIZED_CLOSE = 4401
"""Close code for credentials that are not valid, or none for an agent that is not public."""
FORBIDDEN_CLOSE = 4403
"""Close code for an ``authorized`` agent the caller is not authorised for."""
REFUSED_CLOSE = {401: UNAUTHORIZED_CLOSE, 403: FORBIDDEN_CLOSE, 404: NOT_FOUND_CLOSE}
RECHECK_EVERY = 5.0
"""Seconds an open socket's access holds before its next message checks it again, so a
revoked key, token or authorisation, or an agent no longer public, shuts it out within
them (as long as the authenticator remembers credentials on other processes)."""


class _Connection:
    def __init__(
        self,
        websocket: WebSocket,
        gateway: Gateway,
        agent_id: str,
        listener: Listener,
        reach: Reach,
        *,
        chat_id: str | None = None,
        idle_timeout: float,
        recheck: Callable[[], Awaitable[Reach]] | None = None,
        caller: Caller | None,
        limiter: RateLimiter,
    ) -> None:
        self.websocket = websocket
        self.reach = reach
        self.recheck = recheck
        self.checked_at = time.monotonic()
        self.caller = caller
        self.limiter = limiter
        self.address = client_address(websocket)
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
            await events.send(self.websocket, payload)

    async def forward(self) -> None:
        """Relay output events that answer this connection's messages, and the messages
        pushed into its chat (a scenario bot's delayed and periodic messages)."""
        self.listener.watch(self.chat_id)
        async for event in self.listener:
            reply_to = str(event.get("reply_to"))
            if reply_to.startswith(PUSH_PREFIX) and reply_to not in self.waiting:
                async with self.send_lock:
                    await self._relay_pushed(event)
            elif reply_to in self.early:
                self.early[reply_to].append(event)
            elif reply_to in self.waiting:
                async with self.send_lock:
                    await self._relay(event)

    async def _relay(self, event: dict[str, Any]) -> None:
        """Send one output event; the caller holds the send lock."""
        accepted = self.waiting.get(str(event.get("reply_to")))
        if accepted is None:
            return  # answered already
        final = events.is_final(event)
        shown = final or event.get("type") == "message"
        if shown and event.get("message_id") in self.delivered:
            return  # the same message published again after a redelivery, or its durable copy
        await events.send(self.websocket, events.for_websocket(event))
        if shown and event.get("message_id"):
            self.delivered.add(event["message_id"])
        if final:
            self.waiting.pop(accepted.message_id, None)
            self.gateway.finish(event, accepted, self.listener)

    async def _relay_pushed(self, event: dict[str, Any]) -> None:
        """Send a message pushed into the chat (not an empty one: a move that was dropped)."""
        if event.get("type") != "message" or event.get("message_id") in self.delivered:
            return
        if not (event.get("response") or event.get("widget") or event.get("attachments")):
            return
        await events.send(self.websocket, events.for_websocket(event))
        if event.get("message_id"):
            self.delivered.add(event["message_id"])

    async def replay(self, missed: Replay) -> None:
        """Send what the client missed; then wait for the answers still to come. Runs
        before :meth:`forward`: events that come meanwhile wait in the listener."""
        now = time.perf_counter()
        for message_id in missed.waiting:
            self.waiting[message_id] = Accepted(message_id, self.chat_id, agent_started=False, at=now)
        async with self.send_lock:
            for event in missed.events:
                await events.send(self.websocket, events.for_websocket(event))
                if event.get("message_id"):
                    self.delivered.add(str(event["message_id"]))

    async def _receive_text(self) -> str | None:
        """The next text frame; None for a binary one (not part of the protocol). A client
        that sends no complete message for ``idle_timeout`` seconds while it waits for no
        answer is idle: :class:`_Idle` is raised."""
        while True:
            try:
                async with asyncio.timeout(self.idle_timeout):  # no task of its own, as wait_for makes
                    message = await self.websocket.receive()
                break
            except TimeoutError:
                if not self.waiting and not self.early:
                    raise _Idle from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message.get("text")

    async def _still_allowed(self) -> None:
        """Check the caller's access again when it was last checked ``RECHECK_EVERY`` seconds
        ago or more: :class:`_Refused` when it is gone."""
        if self.recheck is None or time.monotonic() - self.checked_at < RECHECK_EVERY:
            return
        try:
            self.reach = await self.recheck()
        except (Unauthorized, Forbidden, NotFound) as error:
            raise _Refused(error) from None
        self.checked_at = time.monotonic()

    async def receive(self) -> None:
        while True:
            raw = await self._receive_text()
            try:  # each message is a request of its caller: over the limit, an error event
                await self.limiter.check(self.caller, self.address)
            except RateLimited as refused:
                await self.send(events.error_event(refused.code, refused.message, retry_after=refused.retry_after))
                continue
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
                await self._still_allowed()
                accepted = await self.gateway.accept(
                    reach=self.reach, request=request, listener=self.listener, chat_id=self.chat_id,
                    message_id=message_id,
                )
            except _Refused:
                self.early.pop(message_id, None)
                raise
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
                await events.send(self.websocket, {
                    "type": "status", "message": "received",
                    "message_id": accepted.message_id, "chat_id": accepted.chat_id,
                })
                if accepted.agent_started:
                    await events.send(self.websocket, {
                        "type": "status", "message": "Agent is starting…",
                        "chat_id": accepted.chat_id, "reply_to": accepted.message_id,
                    })
                for event in self.early.pop(message_id, []):
                    await self._relay(event)


class _Idle(Exception):  # noqa: N818 - a condition, not a failure
    """The client sent nothing for too long."""


class _Refused(Exception):  # noqa: N818 - a condition, not a failure
    """The caller may no longer chat with the agent (a revoked key or authorisation...)."""

    def __init__(self, error: AgentHubError) -> None:
        super().__init__(error.message)
        self.error = error


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
    websocket: WebSocket, agent_id: str, credentials: SocketCallerDep, chat_id: str | None = None,
    after: str | None = None,
) -> None:
    gateway: Gateway = websocket.app.state.gateway
    settings = websocket.app.state.settings
    await websocket.accept()  # pages of other sites were refused before (channels/origins.py)
    if isinstance(credentials, Unauthorized):  # credentials sent, but not valid
        await _refuse(websocket, UNAUTHORIZED_CLOSE, events.error_event(credentials.code, credentials.message))
        return
    problem = _query_problem(chat_id, after)
    if problem:
        await _refuse(websocket, BAD_QUERY_CLOSE, events.error_event("invalid_input", problem))
        return
    sender = web_sender(credentials, websocket.client.host if websocket.client else None)
    try:
        # Once per connection, from the database: a socket to an agent deleted through any
        # gateway is refused at once, and one opened while the database is away gets 1013.
        reach = await gateway.reach(caller=credentials, agent_id=agent_id, sender=sender, fresh=True)
        if chat_id is not None:
            await gateway.check_chat(reach, chat_id)
        listener = await gateway.listen(reach.agent_id)
    except Exception as error:
        if isinstance(error, AgentHubError) and not isinstance(error, ServiceUnavailable):
            await _refuse(websocket, REFUSED_CLOSE.get(error.status_code, NOT_FOUND_CLOSE),
                          events.error_event(error.code, error.message))
            return
        if not (is_unavailable(error) or isinstance(error, ServiceUnavailable)):
            raise
        await _refuse_unavailable(websocket)
        return
    async def recheck() -> Reach:
        caller = await websocket.app.state.authenticator.caller(websocket)
        return await gateway.reach(caller=caller, agent_id=agent_id, sender=web_sender(caller, sender_address))

    sender_address = websocket.client.host if websocket.client else None
    connection = _Connection(
        websocket, gateway, reach.agent_id, listener, reach, chat_id=chat_id, idle_timeout=settings.ws_idle_timeout,
        recheck=recheck, caller=credentials, limiter=websocket.app.state.rate_limiter,
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
    except _Refused as refused:
        reason = refused.error
        with contextlib.suppress(Exception):
            await _refuse(websocket, REFUSED_CLOSE[reason.status_code], events.error_event(reason.code, reason.message))
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
            reach=connection.reach, chat_id=chat_id, after=after, listener=connection.listener,
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
    await events.send(websocket, event)
    await websocket.close(code=code, reason=_close_reason(event["message"]))


async def _refuse_unavailable(websocket: WebSocket) -> None:
    """The database or the bus is down: close with 1013, try again later."""
    await events.send(websocket, events.error_event("unavailable", "the service is temporarily unavailable; reconnect later"))
    await websocket.close(code=1013, reason="try again later")
