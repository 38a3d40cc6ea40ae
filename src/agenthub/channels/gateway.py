"""The gateway's half of a conversation: store the inbound message, make sure the agent
runs, put the message on the agent's input stream, and follow the answer on its output
channel. Used by the WebSocket and the SSE endpoints alike."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from agenthub.access import rules
from agenthub.access.budgets import BudgetGuard, Payer, end_user
from agenthub.access.rules import Reach, Sender
from agenthub.agents.directory import AgentDirectory
from agenthub.bus import Bus
from agenthub.caller import Caller
from agenthub.channels import events, replay
from agenthub.channels.fanout import Listener, OutputRouter
from agenthub.channels.inbound import InboundMessage, InboundWriter
from agenthub.channels.outbox import OutboundFeed, RecentOutbound
from agenthub.channels.replay import Replay
from agenthub.chats import service as chats_service
from agenthub.chats.schemas import ChatRequest
from agenthub.chats.service import InboundRecord
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.errors import NotFound
from agenthub.files import service as files_service
from agenthub.ops.metrics import Metrics
from agenthub.runtime.tasks import stop_tasks

START_ALLOWANCE = 30.0


class AgentStarter(Protocol):
    """What the gateway needs of a supervisor: the serve process's
    :class:`~agenthub.runtime.supervisor.Supervisor`, or, in a process without one (a
    Telegram bot's), something that asks a serve process through the bus."""

    async def ensure_running(self, agent_id: str) -> bool: ...


@dataclass(frozen=True)
class Accepted:
    message_id: str
    chat_id: str
    agent_started: bool
    at: float


def payer_of(reach: Reach) -> Payer:
    """Who pays for a turn: the agent's organisation, and the sender: a user, an API key, or
    an end user (an anonymous visitor: ``{channel}:{platform_user_id}``), who gets
    ``USER_DEFAULT_BUDGET`` like any user."""
    sender = reach.sender
    user_id = sender.user_id
    if user_id is None and sender.api_key_id is None:
        user_id = end_user(sender.channel, sender.platform_user_id)
    return Payer(reach.org_id, user_id, sender.api_key_id)


class Gateway:
    def __init__(
        self,
        *,
        bus: Bus,
        session_factory: SessionFactory,
        engine: AsyncEngine,
        agents: AgentDirectory,
        supervisor: AgentStarter,
        metrics: Metrics,
        settings: Settings,
        budgets: BudgetGuard,
    ) -> None:
        self._bus = bus
        self._budgets = budgets
        self._sessions = session_factory
        self._agents = agents
        self._supervisor = supervisor
        self._metrics = metrics
        self._settings = settings
        self._router = OutputRouter(bus)
        self._inbound = InboundWriter(bus=bus, engine=engine)
        self._recent = RecentOutbound()
        self._outbound = OutboundFeed(
            bus=bus, router=self._router, recent=self._recent, gateway_id=uuid.uuid4().hex[:12]
        )
        self._outbound_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start reading the durable outbound stream (see :mod:`agenthub.channels.outbox`)."""
        await self._outbound.setup()
        self._outbound_task = asyncio.create_task(self._outbound.run(), name=self._outbound.name)

    async def missed(self, *, reach: Reach, chat_id: str, after: str, listener: Listener) -> Replay:
        """What a client reconnecting to a chat missed after message ``after``; the
        listener expects what is still unanswered (see :mod:`agenthub.channels.replay`).
        NotFound for a chat that is not the client's to read (see :func:`rules.check_chat`)."""
        await self.check_chat(reach, chat_id)
        return await replay.missed(
            sessions=self._sessions, recent=self._recent, listener=listener,
            org_id=reach.org_id, agent_id=reach.agent_id, chat_id=chat_id, after=after,
        )

    async def reach(self, *, caller: Caller | None, agent_id: str, sender: Sender, fresh: bool = False) -> Reach:
        """The agent, if ``caller`` (None: an anonymous visitor) may chat with it; else
        Unauthorized, NotFound or Forbidden (see :mod:`agenthub.access.rules`). Callers
        check once (at connect, at the start of a request) before :meth:`accept`. The
        agent is looked up in this process's cache (:mod:`agenthub.agents.directory`)
        unless ``fresh``."""
        return await rules.reach(
            caller=caller, agent_id=agent_id, sender=sender, agents=self._agents, sessions=self._sessions,
            fresh=fresh,
        )

    async def check_chat(self, reach: Reach, chat_id: str) -> None:
        """NotFound when a visitor from outside the agent's organisation names a chat that
        another sender wrote in; nothing to look up for the organisation's own callers."""
        if reach.member:
            return
        async with self._sessions() as session:
            await rules.check_chat(session, reach=reach, chat_id=chat_id)

    async def check_attachments(self, reach: Reach, file_ids: list[str]) -> None:
        """InvalidInput (422) naming ``attachments.<n>`` when a file id is not a file of the
        agent's organisation: checked before anything is stored."""
        if not file_ids:
            return
        async with self._sessions() as session:
            await files_service.require_files(
                session, org_id=reach.org_id, named=[(f"attachments.{i}", file_id) for i, file_id in enumerate(file_ids)]
            )

    async def listen(self, agent_id: str) -> Listener:
        """A listener for the agent's answers; pass it to :meth:`accept`."""
        return await self._router.listen(agent_id)

    async def send(
        self, *, reach: Reach, request: ChatRequest, message_id: str | None = None, test: bool = False
    ) -> tuple[Listener, Accepted]:
        """:meth:`listen`, then :meth:`accept`: the listener that will hear the answer (the
        caller closes it once the answer is read), or, when the message is refused, nothing
        left open."""
        listener = await self.listen(reach.agent_id)
        try:
            accepted = await self.accept(
                reach=reach, request=request, listener=listener, message_id=message_id, test=test
            )
        except BaseException:
            await listener.close()
            raise
        return listener, accepted

    async def close(self) -> None:
        await stop_tasks([self._outbound_task])
        await self._outbound.cleanup()
        await self._inbound.close()
        await self._router.close()

    async def accept(
        self,
        *,
        reach: Reach,
        request: ChatRequest,
        listener: Listener,
        chat_id: str | None = None,
        message_id: str | None = None,
        test: bool = False,
    ) -> Accepted:
        """Check the budgets of whoever pays for the turn (:func:`payer_of`): ``BudgetExceeded``
        before anything is stored or sent to the model. Then store the message, start the
        agent if needed and put the message on its input. The listener expects the answer
        from before the message is sent, so even an answer that comes before this returns is
        not lost. The message is from ``reach.sender``, whatever ``channel`` or
        ``platform_user_id`` the request says. ``test``: a builder's test message (a
        scenario bot runs its draft for it), set by server code only."""
        message_id = message_id or uuid.uuid4().hex
        chat = request.chat_id or chat_id or uuid.uuid4().hex
        await self.check_chat(reach, chat)
        await self.check_attachments(reach, request.attachments)
        payer = payer_of(reach)
        await self._budgets.check(payer)
        listener.expect(message_id, chat)
        try:
            started = await self._supervisor.ensure_running(reach.agent_id)
            await self._record_and_send(reach, payer, chat, message_id, request, test=test)
        except BaseException:
            listener.answered(message_id)
            raise
        self._metrics.messages.labels("in", reach.sender.channel).inc()
        return Accepted(message_id=message_id, chat_id=chat, agent_started=started, at=time.perf_counter())

    async def push(
        self, *, org_id: str, agent_id: str, chat_id: str, channel: str, user_key: str, message_id: str,
        fields: dict[str, Any],
    ) -> bool:
        """A message no client sent, for the agent to answer in ``chat_id`` as if the user
        (``user_key``: ``user:<id>`` or ``<channel>:<platform user id>``) had written: a
        scenario bot's delayed move or cron (``fields``, put in the envelope). Its answer
        goes where any answer of that chat goes (history, Telegram, and the WebSockets
        watching the chat: ``message_id`` starts with :data:`~agenthub.chats.service.PUSH_PREFIX`).
        Stored with empty content (and not shown in the history).

        Idempotent by ``message_id``: a message already pushed (stored, so on the agent's
        input) is not pushed again; whether this call pushed it."""
        async with self._sessions() as session:
            if await chats_service.recorded(session, message_id=message_id):
                return False
        user_id = user_key.removeprefix("user:") if user_key.startswith("user:") else user_key
        platform_user_id = user_key.split(":", 1)[1] if ":" in user_key else user_key
        await self._supervisor.ensure_running(agent_id)
        message = InboundMessage(
            InboundRecord(
                org_id=org_id, agent_id=agent_id, chat_id=chat_id, message_id=message_id, content="",
                channel=channel, platform_user_id=platform_user_id, user_key=user_id,
            ),
            user_id=user_id, server_fields=fields,
        )
        await self._inbound.write(message)
        return True

    async def _record_and_send(
        self, reach: Reach, payer: Payer, chat_id: str, message_id: str, request: ChatRequest, *, test: bool = False
    ) -> None:
        """Store the message and put it on the agent's input as one unit (see
        :mod:`agenthub.channels.inbound`): a bus that is down leaves nothing stored that no
        agent will ever see."""
        sender = reach.sender
        message = InboundMessage(
            InboundRecord(
                org_id=reach.org_id,
                agent_id=reach.agent_id,
                chat_id=chat_id,
                message_id=message_id,
                content=request.content,
                channel=sender.channel,
                platform_user_id=sender.platform_user_id,
                user_key=payer.user_id or end_user(sender.channel, sender.platform_user_id),
                attachments=tuple(request.attachments),
            ),
            user_data=request.user_data,
            user_id=payer.user_id,
            api_key_id=payer.api_key_id,
            button=request.button,
            test=test,
        )
        try:
            await self._inbound.write(message)
        except IntegrityError as error:  # the agent was deleted after the caller checked
            raise NotFound(f"agent {(reach.handle or reach.agent_id)!r} not found") from error

    async def follow(
        self, listener: Listener, accepted: Accepted, *, keepalive: float | None = None
    ) -> AsyncIterator[dict[str, Any] | None]:
        """The events answering one message: chunks, then one message or error (before it,
        messages marked ``more``, each once, when the agent sends several). With
        ``keepalive``, also None each time nothing came for that many seconds (a chance to
        show the client the connection is alive)."""
        deadline = time.monotonic() + self._settings.turn_timeout + START_ALLOWANCE
        seen: set[str] = set()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                yield {
                    "type": "error",
                    "code": "timeout",
                    "reply_to": accepted.message_id,
                    "chat_id": accepted.chat_id,
                    "response": "Timed out waiting for the agent; the message is kept and will be answered.",
                }
                return
            waited = remaining if keepalive is None else min(remaining, keepalive)
            event = await listener.get(timeout=waited)
            if event is None:
                if keepalive is not None and waited < remaining:
                    yield None
                continue
            if event.get("reply_to") != accepted.message_id:
                continue
            if event.get("type") == "message" and event.get("message_id"):
                if event["message_id"] in seen:
                    continue  # the durable copy of one delivered live
                seen.add(event["message_id"])
            yield event
            if events.is_final(event):
                self.finish(event, accepted, listener)
                return

    def finish(self, event: dict[str, Any], accepted: Accepted, listener: Listener) -> None:
        """The answer to ``accepted`` is complete: stop routing it, count it."""
        listener.answered(accepted.message_id)
        if event.get("type") == "message":
            self._metrics.turn_latency.observe(time.perf_counter() - accepted.at)
            self._metrics.messages.labels("out", event.get("channel", "web")).inc()
