"""``core_memory_replace {label, old_content, new_content}``: change what a core memory
block says (the explicit way to correct a fact)."""

from __future__ import annotations

from typing import Any

from agenthub.db.engine import session_scope
from agenthub.memory import service as memory_service
from agenthub.tools.base import Tool, ToolContext, ToolDeps
from agenthub.tools.builtin._memory import text_argument, user_of


class CoreMemoryReplace(Tool):
    name = "core_memory_replace"
    description = (
        "Replace text in a core memory block: old_content (exactly as the block has it) becomes new_content; an "
        "empty new_content deletes it. Use it when a fact changed or to make room in a full block."
    )
    parameters = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "description": "The block: human, persona, or another block's label"},
            "old_content": {"type": "string", "description": "The text to replace, exactly as in the block"},
            "new_content": {"type": "string", "description": "What it becomes (empty: delete it)"},
        },
        "required": ["label", "old_content", "new_content"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._deps = deps

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        user = user_of(context)
        label = text_argument(arguments, "label", limit=64)
        old = text_argument(arguments, "old_content")
        new = text_argument(arguments, "new_content", required=False)
        async with session_scope(self._deps.sessions) as session:
            block = await memory_service.replace(
                session, agent_id=context.agent_id, user_key=user, agent_settings=context.agent_settings,
                label=label, old_content=old, new_content=new,
            )
        return f"replaced in {block.label} ({len(block.value)}/{block.limit} characters)"


def build(deps: ToolDeps) -> Tool:
    return CoreMemoryReplace(deps)
