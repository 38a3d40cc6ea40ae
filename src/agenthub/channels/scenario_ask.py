"""How a scenario bot's ``llm`` step asks an LLM agent of its organisation: through the
gateway, like any chat message, as the scenario message's sender.

- The agent is the bot's organisation's agent of that handle (another organisation's
  public agent of the same name is never reached); a scenario bot is not asked.
- The sender is who sent the scenario message: a user, an API key or an end user (an
  anonymous visitor, a Telegram user). The agent's access rules hold for them
  (:func:`agenthub.access.rules.reach`): an ``authorized`` agent answers only senders on
  its list, an agent that is not public answers only its organisation's users and keys; an
  end user reaches only a ``public`` agent. An API key's list of agents is not applied: the
  key reached the bot, and the bot's builder chose the agent it asks.
- Whoever pays for the turn has their budget checked first (``BudgetExceeded``), and the
  turn is billed to them, as for a chat message.
- The question and its answer are kept in the agent's chat ``scn-<bot>-<chat>``, so a step
  asked again in one conversation has the earlier questions as context.

Bots hosted in runners and workers (which have no gateway) put their questions on the bus
(:class:`agenthub.scenarios.actions.asks.BusAsker`); every gateway's :class:`AskRelay`
asks them here and publishes the answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from agenthub.access.rules import ANONYMOUS, WEB, Sender
from agenthub.accounts.models import ApiKey, User
from agenthub.agents.directory import AgentDirectory
from agenthub.bus import Bus, keys
from agenthub.caller import Caller
from agenthub.channels.gateway import Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.db.engine import SessionFactory
from agenthub.errors import AgentFailed, InvalidInput, NotFound
from agenthub.runtime.host import READ_BLOCK_MS
from agenthub.runtime.tasks import raise_if_cancel_requested, stop_tasks

log = logging.getLogger(__name__)

SOURCE = "scenario"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:@-]")


def chat_of(message: dict[str, Any]) -> str:
    """The agent's chat for one scenario conversation (its bot and chat)."""
    bot = _UNSAFE.sub("-", str(message.get("agent_id") or "bot"))[:40]
    chat = _UNSAFE.sub("-", str(message.get("chat_id") or "chat"))[:80]
    return f"scn-{bot}-{chat}"


def sender_of(message: dict[str, Any]) -> Sender:
    """Who sent the scenario message, as its envelope says (the gateway wrote it)."""
    channel = str(message.get("channel") or WEB)
    user_id = message.get("user_id") or None
    api_key_id = message.get("api_key_id") or None
    platform_user_id = str(message.get("platform_user_id") or f"{ANONYMOUS}unknown")
    if api_key_id is not None:
        return Sender(channel, platform_user_id, api_key_id=str(api_key_id))
    if user_id is not None and ":" not in str(user_id):  # ``{channel}:{id}`` is an end user, not a user
        return Sender(channel, platform_user_id, user_id=str(user_id))
    return Sender(channel, platform_user_id)


class GatewayAsker:
    """``ask_agent`` for :class:`~agenthub.scenarios.actions.base.ActionDeps` (see the module)."""

    def __init__(self, *, gateway: Gateway, agents: AgentDirectory, sessions: SessionFactory) -> None:
        self._gateway = gateway
        self._agents = agents
        self._sessions = sessions

    async def _caller(self, sender: Sender) -> Caller | None:
        """The sender as a caller: its organisation and role; None for an end user."""
        async with self._sessions() as session:
            if sender.api_key_id is not None:
                key = await session.get(ApiKey, sender.api_key_id)
                return Caller(org_id=key.org_id, api_key_id=key.id) if key is not None else None
            if sender.user_id is not None:
                user = await session.get(User, sender.user_id)
                return Caller(org_id=user.org_id, user_id=user.id, role=user.role) if user is not None else None
        return None

    async def __call__(self, org_id: str, handle: str, prompt: str, message: dict[str, Any]) -> str:
        agent = await self._agents.get(org_id=org_id, agent_id=handle)
        if agent.kind == "scenario":
            raise InvalidInput(f"{handle!r} is a scenario bot: an LLM step asks an LLM agent")
        sender = sender_of(message)
        caller = await self._caller(sender)
        reach = await self._gateway.reach(caller=caller, agent_id=agent.id, sender=sender)
        if reach.agent_id != agent.id:  # the sender's own organisation has an agent of that name
            raise NotFound(f"agent {handle!r} not found")
        request = ChatRequest(
            content=prompt, chat_id=chat_of(message),
            user_data={"source": SOURCE, "bot_id": str(message.get("agent_id") or "")},
        )
        listener, accepted = await self._gateway.send(reach=reach, request=request, message_id=uuid.uuid4().hex)
        try:
            async for event in self._gateway.follow(listener, accepted):
                if event is None:
                    continue
                if event.get("type") == "message":
                    return str(event.get("response", ""))
                if event.get("type") == "error":
                    raise AgentFailed(str(event.get("response") or event.get("message") or "the agent failed"))
        finally:
            await listener.close()
        raise AgentFailed("the agent's answer never came")


class AskRelay:
    """Asks, for the runners and workers that host scenario bots, the questions of their LLM
    steps (:class:`agenthub.scenarios.actions.asks.BusAsker`): each gateway reads them in one
    consumer group, asks through its :class:`GatewayAsker` and publishes the answer (or
    ``{"error"}``). A question is taken once; one whose asker stopped waiting is dropped. A
    gateway that dies with questions in hand leaves their askers to time out."""

    name = "scenario-ask-relay"

    def __init__(self, *, bus: Bus, asker: GatewayAsker, consumer: str, concurrency: int = 64) -> None:
        self._bus = bus
        self._asker = asker
        self._consumer = consumer
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()

    async def setup(self) -> None:
        await self._bus.ensure_group(keys.SCENARIO_ASKS, keys.SCENARIO_ASKS_GROUP)

    async def run_once(self, *, block_ms: int | None = None) -> int:
        entries = await self._bus.read(
            {keys.SCENARIO_ASKS: ">"}, keys.SCENARIO_ASKS_GROUP, self._consumer, count=50, block_ms=block_ms
        )
        for entry in entries:
            await self._bus.ack(keys.SCENARIO_ASKS, keys.SCENARIO_ASKS_GROUP, entry.id)
            if float(entry.payload.get("deadline") or 0) < time.time():
                continue
            await self._slots.acquire()
            task = asyncio.create_task(self._answer(entry.payload), name="scenario-ask")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(entries)

    async def _answer(self, ask: dict[str, Any]) -> None:
        try:
            try:
                text = await self._asker(
                    str(ask.get("org_id")), str(ask.get("agent")), str(ask.get("prompt")), dict(ask.get("message") or {})
                )
                answer: dict[str, Any] = {"text": text}
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - told to the asker, whatever it is
                answer = {"error": getattr(error, "message", None) or str(error) or type(error).__name__}
            await self._bus.publish(keys.scenario_answer(str(ask.get("ask_id"))), answer)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the bus is down: the asker times out
            log.warning("a scenario question could not be answered", exc_info=True)
        finally:
            self._slots.release()

    async def run(self) -> None:
        while True:
            raise_if_cancel_requested()
            try:
                await self.run_once(block_ms=READ_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the bus may be briefly unreachable; keep reading
                log.exception("reading scenario questions failed")
                await asyncio.sleep(1.0)

    async def cleanup(self) -> None:
        await stop_tasks(list(self._running))
