"""``archival_memory_insert {content}``: keep a passage in the user's archival memory
(searched by meaning; out of the context until searched). Never overwrites: a repeat of a
stored passage is reported as already stored."""

from __future__ import annotations

from typing import Any

from agenthub.db.engine import session_scope
from agenthub.errors import AgentHubError
from agenthub.memory import service as memory_service
from agenthub.tools.base import Tool, ToolContext, ToolDeps, ToolError
from agenthub.tools.builtin._memory import Embedders, text_argument, user_of


class ArchivalMemoryInsert(Tool):
    name = "archival_memory_insert"
    description = (
        "Store a passage in archival memory (long-term, unlimited, found again with archival_memory_search). "
        "Write it so it makes sense alone. It never overwrites anything: a passage already stored is not stored "
        "twice, and a fact that changed must be corrected with core_memory_replace in core memory."
    )
    parameters = {
        "type": "object",
        "properties": {"content": {"type": "string", "description": "The passage to keep"}},
        "required": ["content"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._deps = deps
        self._embedders = Embedders(deps)

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        user = user_of(context)
        content = text_argument(arguments, "content").strip()
        try:
            embedder = self._embedders.for_agent(context.agent_settings)
            vector = (await embedder.embed([content]))[0]
        except AgentHubError as error:  # a missing key: said as it is
            raise ToolError(f"the passage could not be embedded: {error.message}") from None
        except Exception as error:  # noqa: BLE001 - the model hears of it
            raise ToolError(f"the passage could not be embedded ({type(error).__name__}); try again later") from None
        async with session_scope(self._deps.sessions) as session:
            stored, passage = await memory_service.insert_passage(
                session, agent_id=context.agent_id, user_key=user, content=content, model=embedder.model,
                vector=vector,
            )
        if not stored:
            return f"already stored: {passage.content}"
        return "stored"


def build(deps: ToolDeps) -> Tool:
    return ArchivalMemoryInsert(deps)
