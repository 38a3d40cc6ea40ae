"""One turn of an agent: an inbound bus message in, a streamed answer out.

The order of effects is what makes a redelivered message answered once:
history and usage are queued, the reply marker is set, the answer is published, and only
then is the inbound message acknowledged. A message whose marker exists is not sent to the
model again; its stored answer is published once more (same message id) and acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph.state import CompiledStateGraph

from agenthub.bus import Batch, Bus, Entry, Payload, keys
from agenthub.chats import service as chats_service
from agenthub.chats.models import MAX_POSITION
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.llm.factory import build_chat_model, model_host
from agenthub.runtime.status import StatusStore

log = logging.getLogger(__name__)

REPLY_MARKER_TTL = 24 * 3600.0
MAX_CHATS_PER_AGENT = 256
ACTIVITY_EVERY = 1.0
ANSWER_STARTS_OVER = "The agent restarted; its answer starts over."
"""The status before the chunks of an answer begun by a host that stopped or died: a client
that shows chunks as they come clears what it has of this answer."""
CHUNK_INTERVAL = 0.02
"""Seconds between two publishes of an answer's streamed text (50 a second at most)."""


@dataclass
class HostedAgent:
    """An agent as a host holds it: its config and the recent conversation of each chat."""

    id: str
    org_id: str
    kind: str
    settings: dict[str, Any]
    config_version: int
    chats: OrderedDict[str, list[BaseMessage]] = field(default_factory=OrderedDict)
    last_touch: float = 0.0

    def remember(self, chat_id: str, messages: list[BaseMessage], limit: int) -> None:
        self.chats[chat_id] = messages[-limit:]
        self.chats.move_to_end(chat_id)
        while len(self.chats) > MAX_CHATS_PER_AGENT:
            self.chats.popitem(last=False)


class ModelCache:
    """Chat models shared by every agent of a process with the same model settings."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._models: dict[tuple[Any, ...], BaseChatModel] = {}

    def for_agent(self, agent: HostedAgent) -> BaseChatModel:
        s = agent.settings
        key = (s["provider"], s["model_id"], s.get("base_url"), s.get("temperature", 0.7))
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = build_chat_model(
                self._settings,
                provider=s["provider"],
                model_id=s["model_id"],
                temperature=s.get("temperature", 0.7),
                base_url=s.get("base_url"),
                timeout=self._settings.turn_timeout,
            )
        return model


class TurnRunner:
    def __init__(
        self,
        *,
        bus: Bus,
        session_factory: SessionFactory,
        settings: Settings,
        graph: CompiledStateGraph,
        models: ModelCache,
        statuses: StatusStore,
    ) -> None:
        self._bus = bus
        self._sessions = session_factory
        self._settings = settings
        self._graph = graph
        self._models = models
        self._statuses = statuses

    async def stored_answers(self, entries: Sequence[Entry]) -> list[Payload | None]:
        """The reply marker of each entry's message, None where it has not been answered:
        one round trip for a whole batch of entries. Only entries delivered before can
        have been answered: the gateway puts each message on its stream once."""
        return await self._bus.get_many([
            keys.agent_reply(str(entry.payload.get("agent_id", "")), _message_id(entry)) for entry in entries
        ])

    async def run(
        self, agent: HostedAgent, entry: Entry, *, stored_answer: Payload | None, again: bool = False
    ) -> None:
        """Answer the entry's message. ``stored_answer`` is its reply marker, as
        :meth:`stored_answers` found it, for an entry that was delivered before. ``again``:
        the entry was delivered before (to a host that stopped or died), so part of an
        answer may have been streamed already; the client is told the answer starts over."""
        message = entry.payload
        message_id = _message_id(entry)
        chat_id = str(message.get("chat_id") or message_id)
        output = keys.agent_output(agent.id)
        if stored_answer is not None:
            log.info("redelivered message already answered", extra={"agent_id": agent.id, "chat_id": chat_id})
            await self._bus.batch().publish(output, stored_answer["outbound"]).ack(
                entry.stream, keys.INPUT_GROUP, entry.id
            ).execute()
            return
        await self._touch(agent)
        if again and stored_answer is None:
            await self._bus.publish(output, {
                "type": "status", "reply_to": message_id, "chat_id": chat_id, "message": ANSWER_STARTS_OVER,
            })
        chunks = ChunkPublisher(self._bus, output, message_id, chat_id)
        try:
            async with asyncio.timeout(self._settings.turn_timeout):
                answer = await self._answer(agent, chat_id, message, chunks)
        except Exception as error:  # noqa: BLE001 - any failure becomes an error to the user
            log.warning(
                "turn failed: %s", type(error).__name__,
                extra={"agent_id": agent.id, "chat_id": chat_id, "error": str(error)[:500]},
            )
            error_event = {
                "type": "error",
                "reply_to": message_id,
                "chat_id": chat_id,
                "channel": message.get("channel", "web"),
                "response": _describe(error, agent),
            }
            batch = self._bus.batch()
            with contextlib.suppress(Exception):  # the error is what the user must see
                await chunks.finish_into(batch)
            await batch.publish(output, error_event).ack(entry.stream, keys.INPUT_GROUP, entry.id).execute()
            return
        await self._deliver(agent, entry, message, chat_id, message_id, answer, chunks)

    async def _answer(
        self, agent: HostedAgent, chat_id: str, message: dict[str, Any], chunks: ChunkPublisher
    ) -> AIMessage:
        history = await self._conversation(agent, chat_id, int(message.get("position") or 0))
        history.append(HumanMessage(content=str(message.get("text", ""))))
        config = {
            "configurable": {
                "model": self._models.for_agent(agent),
                "system_prompt": agent.settings.get("system_prompt", ""),
                "on_token": chunks.push,
            }
        }
        state = await self._graph.ainvoke({"messages": history}, config)
        final = state["messages"][-1] if state.get("messages") else None
        if not isinstance(final, AIMessage):
            raise RuntimeError("the model returned no answer")
        agent.remember(chat_id, [*history, final], self._settings.agent_context_messages)
        return final

    async def _conversation(self, agent: HostedAgent, chat_id: str, position: int) -> list[BaseMessage]:
        """What came before the message at ``position``: cached while the agent is hosted
        here, read from the history after a (re)start. A message without a position (put on
        the bus by hand) gets the whole recent history."""
        cached = agent.chats.get(chat_id)
        if cached is not None:
            return list(cached)
        async with self._sessions() as session:
            rows = await chats_service.context_before(
                session,
                agent_id=agent.id,
                chat_id=chat_id,
                position=position or MAX_POSITION,
                limit=self._settings.agent_context_messages,
            )
        return [
            HumanMessage(content=row.content) if row.role == "user" else AIMessage(content=row.content)
            for row in rows
        ]

    async def _deliver(
        self,
        agent: HostedAgent,
        entry: Entry,
        message: dict[str, Any],
        chat_id: str,
        message_id: str,
        answer: AIMessage,
        chunks: ChunkPublisher,
    ) -> None:
        reply_id = uuid.uuid4().hex
        text = answer.content if isinstance(answer.content, str) else str(answer.content)
        usage = answer.usage_metadata or {}
        channel = message.get("channel", "web")
        outbound = {
            "type": "message",
            "message_id": reply_id,
            "reply_to": message_id,
            "chat_id": chat_id,
            "response": text,
            "channel": channel,
            "usage": {
                "input_tokens": usage.get("input_tokens", 0),
                "output_tokens": usage.get("output_tokens", 0),
                "model": agent.settings["model_id"],
            },
        }
        batch = self._bus.batch().add(keys.HISTORY_QUEUE, {
            "message_id": reply_id,
            "reply_to": message_id,
            "org_id": agent.org_id,
            "agent_id": agent.id,
            "chat_id": chat_id,
            "position": int(message.get("position", 0)) + 1,
            "role": "assistant",
            "content": text,
            "channel": channel,
        })
        if usage:
            batch.add(keys.TOKEN_USAGE_QUEUE, {
                "message_id": reply_id,
                "org_id": agent.org_id,
                "agent_id": agent.id,
                "chat_id": chat_id,
                "provider": agent.settings["provider"],
                "model": agent.settings["model_id"],
                "input_tokens": usage.get("input_tokens", 0),
                "output_tokens": usage.get("output_tokens", 0),
            })
        batch.set(keys.agent_reply(agent.id, message_id), {"outbound": outbound}, ttl=REPLY_MARKER_TTL)
        await chunks.finish_into(batch)
        # In this order: stored, marked answered, shown (the last text, then the answer), and
        # only then acknowledged.
        await (
            batch.publish(keys.agent_output(agent.id), outbound)
            .ack(entry.stream, keys.INPUT_GROUP, entry.id)
            .execute()
        )

    async def _touch(self, agent: HostedAgent) -> None:
        now = time.time()
        if now - agent.last_touch >= ACTIVITY_EVERY:
            agent.last_touch = now
            await self._statuses.touch_activity(agent.id, now)


class ChunkPublisher:
    """Publishes an answer's text while it streams, in order, without holding up the model.

    Text goes out at most every :data:`CHUNK_INTERVAL` seconds, the first piece that long
    after it arrived, what arrives in between together: a model slower than that between
    tokens still streams token by token (each a few milliseconds later than it came, far
    below what a reader notices), a fast one costs a publish now and then instead of one
    per token. The text not yet published when the answer is complete goes in the batch
    that delivers the answer, ahead of it: an answer complete within the interval costs no
    publish of its own."""

    def __init__(self, bus: Bus, channel: str, reply_to: str, chat_id: str) -> None:
        self._bus = bus
        self._channel = channel
        self._reply_to = reply_to
        self._chat_id = chat_id
        self._buffer: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: float | None = None
        self._error: Exception | None = None

    def push(self, text: str) -> None:
        if not text:
            return
        self._buffer.append(text)
        if self._timer is None and self._error is None and (self._task is None or self._task.done()):
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        if self._last is None:
            self._last = loop.time()  # the first piece waits an interval too
        self._timer = loop.call_at(self._last + CHUNK_INTERVAL, self._publish_buffer)

    def _publish_buffer(self) -> None:
        self._timer = None
        text, self._buffer = "".join(self._buffer), []
        self._last = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._publish(text))

    async def _publish(self, text: str) -> None:
        try:
            await self._bus.publish(self._channel, self._event(text))
        except Exception as error:  # noqa: BLE001 - raised by finish_into, for the turn to report
            self._error = error
            return
        if self._buffer and self._timer is None:
            self._schedule()  # what came while this was being published

    def _event(self, text: str) -> Payload:
        return {"type": "chunk", "reply_to": self._reply_to, "chat_id": self._chat_id, "content": text}

    async def finish_into(self, batch: Batch) -> Batch:
        """No more text is coming: let a publish under way complete (its errors surface
        here), then put what is left into ``batch``."""
        task, self._task = self._task, None
        if task is not None:
            await task
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._error is not None:
            raise self._error
        if self._buffer:
            text, self._buffer = "".join(self._buffer), []
            batch.publish(self._channel, self._event(text))
        return batch


def _message_id(entry: Entry) -> str:
    return str(entry.payload.get("message_id") or entry.id)


def _describe(error: BaseException, agent: HostedAgent | None = None) -> str:
    """What the user is told: the kind of failure, never a stack trace or a secret; a model
    server that can't be reached is named by its host."""
    if isinstance(error, TimeoutError):
        return "The agent took too long to answer."
    if agent is not None and isinstance(error, openai.APIConnectionError):
        host = model_host(str(agent.settings.get("provider")), agent.settings.get("base_url"))
        return f"The agent's model server at {host} could not be reached."
    status = getattr(error, "status_code", None)
    if status:
        return f"The model provider answered with an error (HTTP {status})."
    return f"The agent could not answer ({type(error).__name__})."
