"""What the OpenAI-compatible API does: which agents a caller may use as models, which
conversation a request continues, what is sent to the agent, and the agent's answer as a
``chat.completion`` or as ``chat.completion.chunk`` events. The routes are in
:mod:`agenthub.channels.openai_api`.

- The message sent is the last of ``messages``, which must be the user's (text, or text
  parts). Earlier messages and system messages are not sent: the agent keeps each
  conversation's history itself and has its own system prompt, so a client that sends the
  whole conversation each time (as OpenAI's API needs) gets the same answers as one that
  sends only the new message.
- The conversation (the chat) is ``chat_id`` when the request names one; else one chat per
  caller (the API key, or the user of an access token) and ``user``: the same key and
  ``user`` continue the same conversation, request after request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.access.rules import Sender
from agenthub.accounts.models import AgentAuthorization
from agenthub.agents import service as agents_service
from agenthub.agents.models import Agent
from agenthub.agents.schemas import DEFAULT_ACCESS
from agenthub.caller import Caller
from agenthub.channels.event_stream import KEEPALIVE
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.channels.openai_errors import openai_error
from agenthub.channels.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    Model,
    Usage,
)
from agenthub.chats.schemas import ChatRequest
from agenthub.errors import AgentHubError, InvalidInput, plain_problem
from agenthub.runtime.turns import ANSWER_STARTS_OVER

MAX_MODELS = 1000
"""Agents ``GET /v1/models`` lists at most (OpenAI's list has no pages)."""
DONE = b"data: [DONE]\n\n"


class TurnFailed(AgentHubError):
    """The agent took the message but could not answer it (``stream`` false)."""

    STATUSES = {"agent_failed": 409, "agent_stopped": 409, "agent_deleted": 404, "timeout": 504}
    """By the error event's code; any other (``agent_error``, ...) is 500."""

    def __init__(self, event: dict[str, Any]) -> None:
        code = str(event.get("code") or "agent_error")
        super().__init__(str(event.get("response") or "the agent could not answer"), code=code)
        self.status_code = self.STATUSES.get(code, 500)


def as_model(agent: Agent, *, name: str) -> Model:
    return Model(id=name, created=int(agent.created_at.timestamp()), owned_by=agent.org_id, name=agent.name)


async def usable_agents(session: AsyncSession, *, caller: Caller, sender: Sender) -> list[Model]:
    """The agents of the caller's organisation it may chat with, as ``chat/completions``
    would decide (see :mod:`agenthub.access.rules`): not another member's personal agent,
    an ``authorized`` one only with an authorisation, an API key's own agents only."""
    only = None if caller.agent_ids is None else sorted(caller.agent_ids)
    agents, _ = await agents_service.list_(session, org_id=caller.org_id, limit=MAX_MODELS, only=only)
    authorized = set(await session.scalars(select(AgentAuthorization.agent_id).where(
        AgentAuthorization.org_id == caller.org_id, AgentAuthorization.channel == sender.channel, AgentAuthorization.platform_user_id == sender.platform_user_id,
    )))
    usable = []
    for agent in agents:
        owner = agent.owner_user_id
        if owner is not None and (not caller.is_user or caller.user_id != owner):
            continue
        access = (agent.settings or {}).get("access") or DEFAULT_ACCESS
        if access == "authorized" and agent.id not in authorized:
            continue
        usable.append(as_model(agent, name=agent.handle or agent.id))
    return usable


def conversation(sender: Sender, *, chat_id: str | None, user: str | None) -> str:
    """The chat a request goes to: ``chat_id``, else the caller's (and ``user``'s) own."""
    if chat_id:
        return chat_id
    digest = hashlib.sha256(f"{sender.platform_user_id}\x00{user or ''}".encode()).hexdigest()
    return f"openai-{digest[:32]}"


def chat_request(request: ChatCompletionRequest, *, chat_id: str) -> ChatRequest:
    """The message for the agent: the text of the last message, which must be the user's."""
    index = len(request.messages) - 1
    last = request.messages[index]
    where = f"messages.{index}"
    if last.role != "user":
        raise InvalidInput(
            f"the last message must be the user's, not {last.role!r}: the agent keeps the conversation's history "
            "itself, so only the new user message is sent",
            field=f"{where}.role",
        )
    content = last.content
    if isinstance(content, list):
        refused = [part.type for part in content if part.type != "text"]
        if refused:
            raise InvalidInput(f"only text content parts are taken, not {refused[0]!r}", field=f"{where}.content")
        content = "\n".join(part.text or "" for part in content)
    user_data = {"user": request.user} if request.user else {}
    try:
        return ChatRequest(content=content or "", chat_id=chat_id, user_data=user_data)
    except ValidationError as error:
        problem = plain_problem(error.errors()[0]["msg"])
        raise InvalidInput(f"{where}.content: {problem}", field=f"{where}.content", problem=problem) from error


MESSAGES_JOINED_BY = "\n\n"
"""Between the messages of one turn (a scenario bot may send several) in one completion."""


def completion_id(accepted: Accepted) -> str:
    return f"chatcmpl-{accepted.message_id}"


async def complete(gateway: Gateway, listener: Listener, accepted: Accepted, *, model: str) -> ChatCompletion:
    """The whole answer (several messages of one turn, a scenario bot's, joined by a blank
    line); TurnFailed when the agent could not give one."""
    texts: list[str] = []
    async for event in gateway.follow(listener, accepted):
        if event is None:
            continue
        if event.get("type") == "error":
            raise TurnFailed(event)
        if event.get("type") == "message":
            if event.get("response"):
                texts.append(str(event["response"]))
            if event.get("more"):
                continue
            return ChatCompletion(
                id=completion_id(accepted), created=int(time.time()), model=model, chat_id=accepted.chat_id,
                choices=[Choice(message=AssistantMessage(content=MESSAGES_JOINED_BY.join(texts)))],
                usage=Usage.of(event.get("usage")),
            )
    raise TurnFailed({"code": "timeout", "response": "no answer came"})  # follow ends with a final event


def _rest(streamed: str, answer: str) -> str:
    """What of ``answer`` the client has not had yet, after ``streamed``: all of it, on a
    new paragraph, when an agent that restarted mid-answer answered differently."""
    if answer.startswith(streamed):
        return answer[len(streamed):]
    return f"\n\n{answer}"


def _data(value: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(value) + b"\n\n"


async def stream(
    gateway: Gateway, listener: Listener, accepted: Accepted, *, model: str, include_usage: bool, keepalive: float
) -> AsyncGenerator[bytes, None]:
    """The answer as OpenAI streams one: a first chunk with the role, a ``delta`` for each
    piece of text as the agent streams it, a last chunk with ``finish_reason: "stop"``, the
    usage chunk when asked for, then ``[DONE]``. An agent that fails sends an ``error``
    object instead (OpenAI's clients raise it). ``: ping`` comments keep a quiet stream open."""
    head = {
        "id": completion_id(accepted), "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model, "chat_id": accepted.chat_id,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _data({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]})

    yield chunk({"role": "assistant", "content": ""})
    streamed, started_over, sent_before = "", False, False
    async for event in gateway.follow(listener, accepted, keepalive=keepalive):
        kind = None if event is None else event.get("type")
        if event is None:
            yield KEEPALIVE
        elif kind == "status" and event.get("message") == ANSWER_STARTS_OVER:
            started_over = True  # what was streamed can't be taken back: the rest comes with the answer
        elif kind == "chunk" and event.get("content") and not started_over:
            streamed += str(event["content"])
            yield chunk({"content": str(event["content"])})
        elif kind == "message":
            rest = _rest(streamed, str(event.get("response") or ""))
            if rest and sent_before and not streamed:
                rest = MESSAGES_JOINED_BY + rest  # the next message of a turn that sends several
            if rest:
                yield chunk({"content": rest})
            if event.get("more"):
                sent_before, streamed = sent_before or bool(rest), ""
                continue
            yield chunk({}, "stop")
            if include_usage:
                yield _data({**head, "choices": [], "usage": Usage.of(event.get("usage")).model_dump()})
        elif kind == "error":
            failed = TurnFailed(event)
            yield _data(openai_error(failed.status_code, failed.message, code=failed.code))
    yield DONE
