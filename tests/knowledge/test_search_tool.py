"""The ``search_knowledge`` tool: passages of the agent's own knowledge bases with their file
names, cited once each on the answer; another organisation's knowledge base is never searched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.knowledge import service
from agenthub.knowledge.embedding import KnowledgeEmbedders
from agenthub.knowledge.models import KnowledgeBase
from agenthub.knowledge.processor import DocumentProcessor
from agenthub.knowledge.vectors import open_index
from agenthub.outbound.guard import OutboundGuard
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.registry import ToolRegistry


async def _kb(sessions: SessionFactory, org: str, docs: dict[str, str]) -> str:
    async with session_scope(sessions) as session:
        kb = KnowledgeBase(id=service.new_id("kb"), org_id=org, name="Docs", embedding_model="fake")
        session.add(kb)
        await session.flush()
        for name, text in docs.items():
            await service.add_document(session, kb=kb, file_name=name, media_type=None, data=text.encode())
        return kb.id


def _context(org: str, kb_ids: list[str]) -> ToolContext:
    settings: dict[str, Any] = {"tools": ["search_knowledge"], "knowledge_base_ids": kb_ids}
    return ToolContext(org_id=org, agent_id="agent-1", agent_settings=settings, chat_id="c", message={})


async def test_the_tool_searches_the_agents_knowledge_bases_and_cites_them(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, embedding_model="fake", data_dir=tmp_path)
    guard = OutboundGuard.from_settings(settings)
    ours = await _kb(sessions, "org-a", {"pets.md": "Dogs may come to the office on Fridays.",
                                         "food.txt": "Lunch is served at noon in the canteen."})
    theirs = await _kb(sessions, "org-b", {"secret.txt": "Dogs of org B sleep in the server room."})
    index = open_index(settings)  # the embedded index under DATA_DIR, as the tool opens it
    await DocumentProcessor(sessions=sessions, index=index, embedders=KnowledgeEmbedders(settings, guard)).run_once()

    registry = ToolRegistry(ToolDeps(settings=settings, sessions=sessions, guard=guard))
    context = _context("org-a", [ours, theirs])  # theirs named, but not of this organisation
    toolset = await registry.open(context.agent_settings, context)
    result, ok = await toolset.call("search_knowledge", {"query": "may dogs come to the office?", "top_k": 2}, context)
    assert ok, result
    assert result.startswith("[1] pets.md:\nDogs may come to the office on Fridays.")
    assert "secret" not in result and "server room" not in result
    again, _ = await toolset.call("search_knowledge", {"query": "dogs office fridays"}, context)
    citations = context.extras["citations"]
    assert citations[0] == {"file_name": "pets.md", "document_id": citations[0]["document_id"],
                            "knowledge_base_id": ours, "chunk_id": citations[0]["chunk_id"]}
    assert len({(c["document_id"], c["chunk_id"]) for c in citations}) == len(citations)  # each once
    assert {c["knowledge_base_id"] for c in citations} == {ours}

    refused, ok = await toolset.call("search_knowledge", {"query": ""}, context)
    assert not ok and refused.startswith("error: `query`")
    refused, ok = await toolset.call("search_knowledge", {"query": "x", "top_k": 500}, context)
    assert not ok and "top_k" in refused
    nothing, ok = await toolset.call("search_knowledge", {"query": "dogs"}, _context("org-b", [ours]))
    assert ok and nothing.startswith("No passage")
    none, ok = await toolset.call("search_knowledge", {"query": "dogs"}, _context("org-a", []))
    assert not ok and "no knowledge bases" in none
