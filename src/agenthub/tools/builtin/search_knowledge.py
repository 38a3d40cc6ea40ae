"""``search_knowledge``: hybrid search of the agent's knowledge bases (``knowledge_base_ids``
of its settings, in its own organisation only). The passages come back with their file
names, and each is added to the answer's citations (``context.extras["citations"]``, once
per chunk).

:func:`retriever` gives the ``rag`` graph the same search, as ``retrieve(query, top_k)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agenthub.knowledge import service as knowledge_service
from agenthub.knowledge.embedding import KnowledgeEmbedders
from agenthub.knowledge.models import KnowledgeBase
from agenthub.knowledge.retrieval import Passage, hybrid_search
from agenthub.knowledge.vectors import VectorIndex, open_index
from agenthub.tools.base import Tool, ToolContext, ToolDeps, ToolError

DEFAULT_TOP_K = 5
MAX_TOP_K = 20

Retrieve = Callable[..., Awaitable[list[dict[str, Any]]]]


def add_citations(context: ToolContext, passages: list[Passage]) -> None:
    """Cite each passage's document once per chunk in the answer."""
    citations: list[dict[str, Any]] = context.extras.setdefault("citations", [])
    seen = {(c.get("document_id"), c.get("chunk_id")) for c in citations}
    for passage in passages:
        if (passage.document_id, passage.chunk_id) in seen:
            continue
        seen.add((passage.document_id, passage.chunk_id))
        citations.append({
            "file_name": passage.file_name, "document_id": passage.document_id,
            "knowledge_base_id": passage.knowledge_base_id, "chunk_id": passage.chunk_id,
        })


class SearchKnowledge(Tool):
    name = "search_knowledge"
    description = (
        "Search the documents of your knowledge bases. Returns the passages that best match the query, each "
        "with the name of the file it comes from: cite those file names in your answer."
    )
    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for (a question or keywords)"},
            "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K,
                      "description": f"How many passages (default {DEFAULT_TOP_K})"},
        },
        "required": ["query"],
    }

    def __init__(self, deps: ToolDeps, index: VectorIndex) -> None:
        self.deps = deps
        self.index = index
        self.embedders = KnowledgeEmbedders(deps.settings, deps.guard)

    async def _embed_query(self, kb: KnowledgeBase, query: str) -> list[float] | None:
        return (await self.embedders.embed(kb, [query]))[0]

    async def passages(self, query: str, top_k: int, context: ToolContext) -> list[Passage]:
        """The passages of the agent's knowledge bases best matching ``query``."""
        kb_ids = [str(kb_id) for kb_id in context.agent_settings.get("knowledge_base_ids") or ()]
        async with self.deps.sessions() as session:
            kbs = await knowledge_service.of_agent(session, org_id=context.org_id, kb_ids=kb_ids)
            if not kbs:
                return []
            return await hybrid_search(
                session, self.index, kbs, query, top_k=top_k, embed_query=self._embed_query
            )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("`query` must be a non-empty string")
        top_k = arguments.get("top_k", DEFAULT_TOP_K)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
            raise ToolError(f"`top_k` must be a whole number from 1 to {MAX_TOP_K}")
        if not context.agent_settings.get("knowledge_base_ids"):
            raise ToolError("this agent has no knowledge bases (settings.knowledge_base_ids)")
        found = await self.passages(query.strip(), top_k, context)
        if not found:
            return "No passage of the knowledge bases matches this query."
        add_citations(context, found)
        return "\n\n".join(f"[{i}] {p.file_name}:\n{p.text}" for i, p in enumerate(found, start=1))

    async def retrieve(self, query: str, top_k: int, context: ToolContext) -> list[dict[str, Any]]:
        return [p.as_dict() for p in await self.passages(query, top_k, context)]


def build(deps: ToolDeps) -> Tool:
    return SearchKnowledge(deps, open_index(deps.settings))


def retriever(tool: Tool, context: ToolContext) -> Retrieve:
    """``retrieve(query, top_k=5) -> [{"text", "file_name", "document_id", "knowledge_base_id",
    "chunk_id", "score"}]`` over the agent's knowledge bases (``tool``: this module's tool)."""
    if not isinstance(tool, SearchKnowledge):
        raise TypeError("retriever() takes the search_knowledge tool")
    search = tool

    async def retrieve(query: str, top_k: int = DEFAULT_TOP_K) -> list[dict[str, Any]]:
        return await search.retrieve(query, top_k, context)

    return retrieve
