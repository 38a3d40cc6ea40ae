"""``archival_memory_search {query, top_k?}``: the user's archival passages nearest in
meaning to the query (cosine similarity), or sharing its words when none is near."""

from __future__ import annotations

import logging
from typing import Any

from agenthub.db.engine import session_scope
from agenthub.memory import service as memory_service
from agenthub.tools.base import Tool, ToolContext, ToolDeps
from agenthub.tools.builtin._memory import Embedders, count_argument, text_argument, user_of

log = logging.getLogger(__name__)
DEFAULT_TOP_K = 5
MOST = 20


class ArchivalMemorySearch(Tool):
    name = "archival_memory_search"
    description = "Search archival memory (what was stored with archival_memory_insert) by meaning."
    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for"},
            "top_k": {"type": "integer", "minimum": 1, "maximum": MOST, "description": "Passages to return (5)"},
        },
        "required": ["query"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._deps = deps
        self._embedders = Embedders(deps)

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        user = user_of(context)
        query = text_argument(arguments, "query", limit=2000)
        top_k = count_argument(arguments, "top_k", default=DEFAULT_TOP_K, most=MOST)
        model = self._embedders.model_for(context.agent_settings)
        vector: list[float] | None
        try:
            vector = (await self._embedders.for_agent(context.agent_settings).embed([query]))[0]
        except Exception as error:  # noqa: BLE001 - the keyword search still answers
            log.warning("archival search: embedding failed (%s); keywords only", type(error).__name__)
            vector = None
        async with session_scope(self._deps.sessions) as session:
            found = await memory_service.search_passages(
                session, agent_id=context.agent_id, user_key=user, query=query, model=model,
                vector=vector, top_k=top_k,
            )
        if not found:
            return "nothing found in archival memory"
        return "\n".join(
            f"{index}. [{passage.created_at:%Y-%m-%d}] {passage.content}"
            for index, (_, passage) in enumerate(found, 1)
        )


def build(deps: ToolDeps) -> Tool:
    return ArchivalMemorySearch(deps)
