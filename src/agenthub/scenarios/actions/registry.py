"""The actions of connection groups by ``search_type``: what the engine calls for a group
that is not a ``message`` group. Always a result dict; ``{"error": ...}`` when the action
failed (rules can test ``error``), never an exception."""

from __future__ import annotations

import logging
from typing import Any

from agenthub.scenarios.actions.base import Action, ActionCall, ActionDeps
from agenthub.scenarios.actions.code import run_code
from agenthub.scenarios.actions.integrations import run_integration
from agenthub.scenarios.actions.llm import run_llm
from agenthub.scenarios.actions.request import run_request

log = logging.getLogger(__name__)

ACTIONS: dict[str, Action] = {
    "response": run_request,
    "code": run_code,
    "llm": run_llm,
    "integration": run_integration,
}
"""The action of each kind of group (a constant: a new kind is a new module and a line here)."""


async def run_action(call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    """The result of ``call.group``'s action (see the module)."""
    action = ACTIONS.get(call.group.search_type)
    if action is None:
        return {"error": f"a {call.group.search_type!r} group runs no action"}
    try:
        result = await action(call, deps)
    except Exception as error:  # noqa: BLE001 - each action catches its own; this is the last net
        log.exception("a scenario action failed", extra={"bot_id": call.bot_id})
        return {"error": f"the action failed: {type(error).__name__}"}
    return result if isinstance(result, dict) else {"error": "the action returned no result"}
