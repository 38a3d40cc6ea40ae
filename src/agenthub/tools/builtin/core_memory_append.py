"""``core_memory_append {label, content}``: add a line to one of the user's core memory blocks."""

from __future__ import annotations

from typing import Any

from agenthub.db.engine import session_scope
from agenthub.memory import service as memory_service
from agenthub.tools.base import Tool, ToolContext, ToolDeps
from agenthub.tools.builtin._memory import text_argument, user_of


class CoreMemoryAppend(Tool):
    name = "core_memory_append"
    description = (
        "Add a line to a core memory block (always in your context, kept across conversations): `human` for "
        "what you learn about the user, `persona` for yourself, or another block. Fails when the block would "
        "exceed its character limit: then shorten it with core_memory_replace first. To change a fact, use "
        "core_memory_replace instead of appending a second version."
    )
    parameters = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "description": "The block: human, persona, or another block's label"},
            "content": {"type": "string", "description": "What to add"},
        },
        "required": ["label", "content"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._deps = deps

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        user = user_of(context)
        label = text_argument(arguments, "label", limit=64)
        content = text_argument(arguments, "content")
        async with session_scope(self._deps.sessions) as session:
            block = await memory_service.append(
                session, agent_id=context.agent_id, user_key=user, agent_settings=context.agent_settings,
                label=label, content=content,
            )
        return f"appended to {block.label} ({len(block.value)}/{block.limit} characters)"


def build(deps: ToolDeps) -> Tool:
    return CoreMemoryAppend(deps)
