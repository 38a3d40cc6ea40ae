"""The actions of connection groups, by ``search_type``: what the engine calls to run one."""

from __future__ import annotations

from typing import Any

from agenthub.scenarios.actions.base import ActionCall, ActionDeps


async def run_action(call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    """The result of the group's action; ``{"error": ...}`` on a failure (never raises)."""
    return {"error": f"{call.group.search_type} actions are not available"}
