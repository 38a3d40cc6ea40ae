"""One turn of an agent: an inbound bus message in, a streamed answer out.

The engine of the agent's kind answers (see ``agenthub.engines``); what follows is the
same for every kind. The order of effects is what makes a redelivered message answered once:
history and usage are queued, the reply marker is set, the answer is published, and only
then is the inbound message acknowledged. A message whose marker exists is not sent to the
model again; its stored answer is published once more (same message id) and acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Sequence
from typing import Any

from agenthub.bus import Batch, Bus, Entry, Payload, keys
from agenthub.config import Settings
from agenthub.engines.base import Answer, HostedAgent, Turn, Usage
from agenthub.engines.registry import EngineRegistry
from agenthub.errors import AgentHubError
from agenthub.ops import tracing
from agenthub.runtime.status import StatusStore

__all__ = ["HostedAgent", "TurnRunner", "ChunkPublisher"]

log = logging.getLogger(__name__)

REPLY_MARKER_TTL = 24 * 3600.0
ACTIVITY_EVERY = 1.0
ANSWER_STARTS_OVER = "The agent restarted; its answer starts over."
"""The status before the chunks of an answer begun by a host that stopped or died: a client
that shows chunks as they come clears what it has of this answer."""
CHUNK_INTERVAL = 0.02
"""Seconds between two publishes of an answer's streamed text (50 a second at most)."""
STOP_CHECK_INTERVAL = 0.25
"""Seconds between two looks, while an answer is being written, for a request to stop it
(``keys.turn_stop``): an answer complete sooner costs no look at all."""


CHARACTERS_PER_TOKEN = 4
"""What a stopped answer's tokens are estimated by (the usual rule of thumb for English)."""


def stopped_usage(turn: Turn, streamed: str) -> Usage | None:
    """What a stopped answer is billed: its model call was cancelled and reported nothing,
    so the tokens are estimated, a token per four characters, from the system prompt and the
    message (a lower bound: the history sent with them is not counted) and from what
    streamed. Stopping an answer never makes it free. None for an agent without a model."""
    settings = turn.agent.settings
    provider = settings.get("provider")
    if turn.agent.kind != "llm" or not provider:
        return None
    prompt = len(str(settings.get("system_prompt") or "")) + len(turn.text)
    return Usage(
        provider=str(provider), model=str(settings.get("model_id") or ""),
        input_tokens=math.ceil(prompt / CHARACTERS_PER_TOKEN), output_tokens=math.ceil(len(streamed) / CHARACTERS_PER_TOKEN),
    )


class TurnRunner:
    """Runs a turn through the engine of the agent's kind and delivers what it answers:
    the same for every kind, and nothing in it knows how an engine answers."""

    def __init__(
        self,
        *,
        bus: Bus,
        settings: Settings,
        engines: EngineRegistry,
        statuses: StatusStore,
    ) -> None:
        self._bus = bus
        self._settings = settings
        self._engines = engines
        self._statuses = statuses

    def check(self, agent: HostedAgent) -> None:
        """Raise unless an engine of this process can run ``agent``."""
        self._engines.for_kind(agent.kind).check(agent)

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
            batch = self._bus.batch()
            for event in stored_answer.get("earlier") or ():
                self._send_final(batch, agent, event)
            await self._send_final(batch, agent, stored_answer["outbound"]).ack(
                entry.stream, keys.INPUT_GROUP, entry.id
            ).execute()
            return
        await self._touch(agent)
        if again and stored_answer is None:
            await self._bus.publish(output, {
                "type": "status", "reply_to": message_id, "chat_id": chat_id, "message": ANSWER_STARTS_OVER,
            })
        chunks = ChunkPublisher(self._bus, output, message_id, chat_id)
        turn = Turn(
            agent=agent,
            message_id=message_id,
            chat_id=chat_id,
            text=str(message.get("text", "")),
            position=int(message.get("position") or 0),
            message=message,
        )
        try:
            # The turn's span: ids and kind only, never the message's text.
            with tracing.span("agenthub.turn", **{"agent.id": agent.id, "chat.id": chat_id, "agent.kind": agent.kind}):
                async with asyncio.timeout(self._settings.turn_timeout):
                    answer = await self._answer_unless_stopped(turn, chunks)
        except Exception as error:  # noqa: BLE001 - any failure becomes an error to the user
            log.warning(
                "turn failed: %s", type(error).__name__,
                extra={"agent_id": agent.id, "chat_id": chat_id, "error": str(error)[:500]},
            )
            error_event = {
                "type": "error",
                "message_id": uuid.uuid4().hex,  # channels show each outbound event once, by this id
                "reply_to": message_id,
                "chat_id": chat_id,
                "channel": message.get("channel", "web"),
                "response": self._failure_text(error, agent),
            }
            batch = self._bus.batch()
            with contextlib.suppress(Exception):  # the error is what the user must see
                await chunks.finish_into(batch)
            await self._send_final(batch, agent, error_event).ack(entry.stream, keys.INPUT_GROUP, entry.id).execute()
            return
        await self._deliver_answer(entry, turn, answer, chunks)

    async def _answer_unless_stopped(self, turn: Turn, chunks: ChunkPublisher) -> Answer:
        """The engine's answer; or, when a stop of this message is asked for while it is being
        written, what had streamed of it (the engine's work is cancelled)."""
        work = asyncio.ensure_future(self._engines.for_kind(turn.agent.kind).answer(turn, chunks))
        stop_key = keys.turn_stop(turn.agent.id, turn.message_id)
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=STOP_CHECK_INTERVAL)
                if done:
                    return work.result()
                try:
                    asked = await self._bus.get(stop_key)
                except Exception as error:  # noqa: BLE001 - a bus blip must not fail the answer
                    log.warning("could not look for a stop: %s", type(error).__name__, extra={"agent_id": turn.agent.id})
                    continue
                if asked is not None:
                    log.info("answer stopped on request", extra={"agent_id": turn.agent.id, "chat_id": turn.chat_id})
                    work.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await work
                    streamed = chunks.streamed()
                    return Answer(text=streamed, stopped=True, usage=stopped_usage(turn, streamed))
        finally:
            if not work.done():
                work.cancel()  # the turn timed out or was cancelled itself

    def _failure_text(self, error: BaseException, agent: HostedAgent) -> str:
        """What the user is told of a failed turn: the engine's words where it has them."""
        try:
            engine = self._engines.for_kind(agent.kind)
        except AgentHubError:
            return _describe(error)
        return engine.describe_failure(error, agent) or _describe(error)

    async def _deliver_answer(self, entry: Entry, turn: Turn, answer: Answer, chunks: ChunkPublisher) -> None:
        agent, message_id, chat_id = turn.agent, turn.message_id, turn.chat_id
        reply_id = uuid.uuid4().hex
        channel = turn.message.get("channel", "web")
        usage = answer.usage
        outbound: Payload = {
            "type": "message",
            "message_id": reply_id,
            "reply_to": message_id,
            "chat_id": chat_id,
            "response": answer.text,
            "channel": channel,
        }
        extras = {key: value for key, value in (("tool_calls", answer.tool_calls), ("citations", answer.citations))
                  if value}
        outbound.update(extras)
        shown = _shown_with({"widget": answer.widget, "attachments": answer.attachments})
        outbound.update(shown)
        if usage is not None:
            outbound["usage"] = {
                "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "model": usage.model,
            }
        if answer.stopped:
            outbound["stopped"] = True
        batch = self._bus.batch()
        # Messages sent before the answer (a scenario bot's steps): each its own message,
        # marked "more" so clients wait for the last; stored at the answer's position
        # without reply_to (an answer's reply_to is unique), in order.
        earlier: list[Payload] = []
        for item in answer.messages or ():
            earlier_id = uuid.uuid4().hex
            text = str(item.get("text") or "")
            earlier.append({
                "type": "message", "message_id": earlier_id, "reply_to": message_id, "chat_id": chat_id,
                "response": text, "channel": channel, "more": True, **_shown_with(item),
            })
            batch.add(keys.HISTORY_QUEUE, {
                "message_id": earlier_id, "reply_to": None, "org_id": agent.org_id, "agent_id": agent.id,
                "chat_id": chat_id, "position": turn.position + 1, "role": "assistant", "content": text,
                "channel": channel, **_shown_with(item),
            })
        batch.add(keys.HISTORY_QUEUE, {
            "message_id": reply_id,
            "reply_to": message_id,
            "org_id": agent.org_id,
            "agent_id": agent.id,
            "chat_id": chat_id,
            "position": turn.position + 1,
            "role": "assistant",
            "content": answer.text,
            "channel": channel,
            **extras,
            **shown,
            **({"stopped": True} if answer.stopped else {}),
        })
        if usage is not None and (usage.input_tokens or usage.output_tokens):
            batch.add(keys.TOKEN_USAGE_QUEUE, {
                "message_id": reply_id,
                "org_id": agent.org_id,
                "agent_id": agent.id,
                "chat_id": chat_id,
                "user_id": turn.message.get("user_id"),
                "api_key_id": turn.message.get("api_key_id"),
                "provider": usage.provider,
                "model": usage.model,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
            })
        marker: Payload = {"outbound": outbound}
        if earlier:
            marker["earlier"] = earlier
        batch.set(keys.agent_reply(agent.id, message_id), marker, ttl=REPLY_MARKER_TTL)
        await chunks.finish_into(batch)
        for channel, event in answer.broadcasts or ():
            batch.publish(channel, event)
        # In this order: stored, marked answered, shown (the last text, then the answer), and
        # only then acknowledged.
        for event in earlier:
            self._send_final(batch, agent, event)
        await self._send_final(batch, agent, outbound).ack(entry.stream, keys.INPUT_GROUP, entry.id).execute()

    def _send_final(self, batch: Batch, agent: HostedAgent, event: Payload) -> Batch:
        """Put into ``batch`` what delivers an event a client must not miss (an answer, an
        error, an answer sent again) to the clients of ``agent``: every final event of a
        turn, of every kind, goes out here and nowhere else."""
        return batch.publish(keys.agent_output(agent.id), event).add(
            keys.OUTBOUND_QUEUE, {**event, "agent_id": agent.id}  # the durable copy channels read
        )

    async def _touch(self, agent: HostedAgent) -> None:
        now = time.time()
        if now - agent.last_touch >= ACTIVITY_EVERY:
            agent.last_touch = now
            await self._statuses.touch_activity(agent.id, now)


class ChunkPublisher:
    """The events of one turn (:class:`~agenthub.engines.base.TurnEvents`): publishes an
    answer's text while it streams, in order, without holding up the engine, and the
    engine's other events after the text that came before them.

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
        self._streamed: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: float | None = None
        self._error: Exception | None = None

    def text(self, piece: str) -> None:
        if not piece:
            return
        self._buffer.append(piece)
        self._streamed.append(piece)
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

    def streamed(self) -> str:
        """The answer's text so far (published, or about to be)."""
        return "".join(self._streamed)

    async def emit(self, event: Payload) -> None:
        """Publish an event of another type (a tool call...) after the text pushed before it."""
        batch = await self.finish_into(self._bus.batch())
        await batch.publish(self._channel, {**event, "reply_to": self._reply_to, "chat_id": self._chat_id}).execute()

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


def _shown_with(item: dict[str, Any]) -> Payload:
    """What a message shows beside its text (buttons, attachments), where it has any: sent
    live and stored in the history alike (a client reloading the chat shows the same)."""
    return {key: item[key] for key in ("widget", "attachments") if item.get(key)}


def _message_id(entry: Entry) -> str:
    return str(entry.payload.get("message_id") or entry.id)


def _describe(error: BaseException) -> str:
    """What the user is told: the kind of failure, never a stack trace or a secret."""
    if isinstance(error, TimeoutError):
        return "The agent took too long to answer."
    status = getattr(error, "status_code", None)
    if status:
        return f"The model provider answered with an error (HTTP {status})."
    return f"The agent could not answer ({type(error).__name__})."
