"""LLM steps of bots hosted in a runner or a worker: the question is relayed over the bus to
a gateway, which asks the agent as the app does (access, budgets, the agent started where
it runs: ``agenthub.channels.scenario_ask.AskRelay``), and the answer comes back on a
pub/sub channel of its own. A question no gateway answers in time is a timeout."""

from __future__ import annotations

import time
import uuid
from typing import Any

from agenthub.bus import Bus, keys


class AskRefused(Exception):
    """What the gateway said went wrong (a refusal, a failure of the agent)."""


class BusAsker:
    """``ask_agent`` through the bus (see the module); ``timeout``: seconds to wait for the answer."""

    def __init__(self, bus: Bus, *, timeout: float) -> None:
        self._bus = bus
        self._timeout = timeout

    async def __call__(self, org_id: str, agent: str, prompt: str, message: dict[str, Any]) -> str:
        ask_id = uuid.uuid4().hex
        subscription = await self._bus.subscribe(keys.scenario_answer(ask_id))
        try:
            await self._bus.add(keys.SCENARIO_ASKS, {
                "ask_id": ask_id, "org_id": org_id, "agent": agent, "prompt": prompt, "message": message,
                "deadline": time.time() + self._timeout,
            })
            answer = await subscription.get(timeout=self._timeout)
        finally:
            await subscription.close()
        if answer is None:
            raise AskRefused(f"timeout: no gateway answered within {self._timeout:g} s")
        if "error" in answer:
            raise AskRefused(str(answer["error"]))
        return str(answer.get("text", ""))
