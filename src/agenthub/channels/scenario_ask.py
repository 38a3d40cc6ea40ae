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
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from agenthub.access.rules import ANONYMOUS, WEB, Sender
from agenthub.accounts.models import ApiKey, User
from agenthub.agents.directory import AgentDirectory
from agenthub.caller import Caller
from agenthub.channels.gateway import Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.db.engine import SessionFactory
from agenthub.errors import AgentFailed, InvalidInput, NotFound

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
