"""``llm`` groups: ask an LLM agent of the bot's organisation and wait for its answer.

``call.group.llm`` names the agent by its handle (``agent_id``) and the ``prompt`` (with
substitution). The question goes through ``ActionDeps.ask_agent``, which the entry point
provides: in the app, :class:`agenthub.channels.scenario_ask.GatewayAsker` puts it on the
agent's input like any chat message, as the scenario message's sender, so that agent's
access rules and the sender's budget apply. The answer is ``{"text": ...}``; a refusal, a
failure or no answer within ``TURN_TIMEOUT`` (and 30 s for the agent to start) is
``{"error": ...}``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agenthub.scenarios.actions.base import ActionCall, ActionDeps, AskAgent
from agenthub.scenarios.variables import substitute_text

log = logging.getLogger(__name__)


class LateAsker:
    """An ``ask_agent`` whose implementation is given once the process has it (the app's
    gateway is made after the engines of its local host): until then, and in a process that
    never gets one, asking fails saying so."""

    def __init__(self, target: AskAgent | None = None) -> None:
        self._target = target

    def bind(self, target: AskAgent | None) -> None:
        self._target = target

    async def __call__(self, org_id: str, agent: str, prompt: str, message: dict[str, Any]) -> str:
        if self._target is None:
            raise RuntimeError("LLM steps cannot ask an agent from this process")
        return await self._target(org_id, agent, prompt, message)


def _said(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    return message or type(error).__name__


async def run_llm(call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    """The ``llm`` action (see the module); never raises."""
    settings = call.group.llm
    if settings is None:
        return {"error": "the group names no LLM agent"}
    if deps.ask_agent is None:
        return {"error": "LLM steps cannot ask an agent from this process"}
    prompt = substitute_text(settings.prompt, call.scopes).strip()
    if not prompt:
        return {"error": "the prompt is empty"}
    timeout = float(deps.settings.turn_timeout) + 30.0
    try:
        async with asyncio.timeout(timeout):
            text = await deps.ask_agent(call.org_id, settings.agent_id, prompt, call.message)
    except TimeoutError:
        return {"error": f"timeout: agent {settings.agent_id!r} did not answer within {timeout:g} s"}
    except Exception as error:  # noqa: BLE001 - refusals (NotFound, Forbidden, BudgetExceeded) and failures
        log.info("an LLM step failed: %s", type(error).__name__, extra={"bot_id": call.bot_id})
        return {"error": f"agent {settings.agent_id!r}: {_said(error)}"}
    return {"text": text}
