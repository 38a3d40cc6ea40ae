"""Running an agent proactively: a message from a user that no client sent (a calendar event's
prompt), through the gateway exactly as the chat routes send one (the same access rules,
budgets, stored history), and its final answer collected as text."""

from __future__ import annotations

import uuid

from agenthub.access.rules import Sender, web_sender
from agenthub.caller import Caller
from agenthub.channels.gateway import Gateway
from agenthub.chats.schemas import ChatRequest
from agenthub.errors import AgentHubError, NotFound

SOURCE = "calendar"
"""``user_data.source`` of a proactive message: the agent may tell it from a person's."""


class ProactiveRunFailed(AgentHubError):
    """The agent answered a proactive message with an error (it failed, or timed out)."""

    code = "proactive_run_failed"


def user_sender(caller: Caller) -> Sender:
    """Who a proactive message is from: the user, as on the web (so an ``authorized``
    agent's list applies to it as to their chat)."""
    return web_sender(caller, None)


class GatewayAgentAccess:
    """The calendar's :class:`~agenthub.calendar.service.AgentAccess`: the organisation's
    agent if the caller may chat with it (:meth:`Gateway.reach`)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def __call__(self, caller: Caller, agent_id: str) -> str:
        reach = await self._gateway.reach(caller=caller, agent_id=agent_id, sender=user_sender(caller), fresh=True)
        if not reach.member:  # another organisation's public agent: events name the caller's own
            raise NotFound(f"agent {agent_id!r} not found")
        return reach.agent_id


async def ask(
    gateway: Gateway, *, caller: Caller, agent_id: str, prompt: str, chat_id: str, user_data: dict[str, str]
) -> str:
    """The agent's answer to ``prompt`` from the caller (a user) in ``chat_id``. Raises what
    the chat routes refuse with (NotFound, Forbidden, BudgetExceeded, AgentFailed...) and
    :class:`ProactiveRunFailed` for an error answer."""
    reach = await gateway.reach(caller=caller, agent_id=agent_id, sender=user_sender(caller), fresh=True)
    request = ChatRequest(content=prompt, chat_id=chat_id, user_data={"source": SOURCE, **user_data})
    listener, accepted = await gateway.send(reach=reach, request=request, message_id=uuid.uuid4().hex)
    said: list[str] = []
    try:
        async for event in gateway.follow(listener, accepted):
            if event is None:
                continue
            if event.get("type") == "message":  # several (a scenario bot's steps): joined
                said.extend([str(event["response"])] if event.get("response") else [])
                if not event.get("more"):
                    return "\n\n".join(said)
            if event.get("type") == "error":
                raise ProactiveRunFailed(str(event.get("response") or event.get("message") or "the agent failed"))
    finally:
        await listener.close()
    raise ProactiveRunFailed("the agent's answer never came")
