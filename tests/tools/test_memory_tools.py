"""The memory tools on a real database (SQLite and PostgreSQL): what the model is told when
it edits core memory, stores and searches archival memory, and searches past turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agenthub.agents import service as agents_service
from agenthub.agents.schemas import AgentCreate
from agenthub.caller import DEFAULT_ORG
from agenthub.chats import service as chats_service
from agenthub.chats.service import InboundRecord
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.memory import service as memory_service
from agenthub.outbound.guard import OutboundGuard
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.registry import ToolRegistry, Toolset
from tests.runtime.helpers import migrated_sessions
from tests.support.server import make_settings

MEMORY_TOOLS = [
    "core_memory_append", "core_memory_replace", "archival_memory_insert", "archival_memory_search",
    "conversation_search",
]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine, factory = await migrated_sessions(database_url)
    try:
        yield factory
    finally:
        await engine.dispose()


async def _agent(sessions: SessionFactory, **settings: Any) -> tuple[str, dict[str, Any]]:
    async with session_scope(sessions) as session:
        agent = await agents_service.create(session, org_id=DEFAULT_ORG, data=AgentCreate.model_validate({
            "id": "mem", "name": "mem",
            "settings": {"provider": "fake", "model_id": "demo", "tools": MEMORY_TOOLS, **settings},
        }))
        return agent.id, dict(agent.settings)


async def _tools(sessions: SessionFactory, database_url: str, agent_settings: dict[str, Any]) -> Toolset:
    settings = make_settings(database_url=database_url)
    registry = ToolRegistry(ToolDeps(settings=settings, sessions=sessions, guard=OutboundGuard.from_settings(settings)))
    context = ToolContext(org_id=DEFAULT_ORG, agent_id="mem", agent_settings=agent_settings, chat_id="c", message={})
    return await registry.open(agent_settings, context)


def _context(agent_id: str, agent_settings: dict[str, Any], user: str, message_id: str = "m-now") -> ToolContext:
    return ToolContext(
        org_id=DEFAULT_ORG, agent_id=agent_id, agent_settings=agent_settings, chat_id="c",
        message={"user_id": user, "message_id": message_id, "channel": "web"},
    )


async def test_core_memory_edits_respect_labels_limits_and_what_is_there(sessions: SessionFactory, database_url: str) -> None:
    agent_id, agent_settings = await _agent(
        sessions, memory_blocks=[{"label": "human", "limit": 40}, {"label": "goals", "value": "none yet", "limit": 100}]
    )
    tools = await _tools(sessions, database_url, agent_settings)
    ada = _context(agent_id, agent_settings, "ada")

    assert await tools.call("core_memory_append", {"label": "human", "content": "Name: Ada."}, ada) == (
        "appended to human (10/40 characters)", True,
    )
    result, ok = await tools.call("core_memory_append", {"label": "human", "content": "x" * 40}, ada)
    assert not ok and "over its limit of 40" in result
    result, ok = await tools.call("core_memory_append", {"label": "persona", "content": "kind"}, ada)
    assert not ok and "no memory block 'persona'" in result and "human, goals" in result
    result, ok = await tools.call(
        "core_memory_replace", {"label": "human", "old_content": "Name: Bob.", "new_content": "Name: Eve."}, ada
    )
    assert not ok and "does not contain" in result
    assert (await tools.call(
        "core_memory_replace", {"label": "human", "old_content": "Ada", "new_content": "Ada Lovelace"}, ada
    ))[1]
    result, ok = await tools.call("core_memory_append", {"label": "human"}, ada)
    assert not ok and "content is required" in result

    async with session_scope(sessions) as session:
        blocks = await memory_service.blocks(
            session, agent_id=agent_id, user_key="ada", agent_settings=agent_settings
        )
    assert [(b.label, b.value, b.limit) for b in blocks] == [
        ("human", "Name: Ada Lovelace.", 40), ("goals", "none yet", 100),
    ]


async def test_archival_memory_keeps_a_fact_once_and_finds_it_by_meaning_or_words(
    sessions: SessionFactory, database_url: str
) -> None:
    agent_id, agent_settings = await _agent(sessions)
    tools = await _tools(sessions, database_url, agent_settings)
    ada = _context(agent_id, agent_settings, "ada")
    bob = _context(agent_id, agent_settings, "bob")

    fact = "Ada's daughter Lucy plays the cello on Tuesdays."
    assert await tools.call("archival_memory_insert", {"content": fact}, ada) == ("stored", True)
    again, ok = await tools.call("archival_memory_insert", {"content": "  ada's daughter lucy plays the CELLO on tuesdays"}, ada)
    assert ok and again == f"already stored: {fact}"
    assert (await tools.call("archival_memory_insert", {"content": "Ada works as a tunnel engineer in Lyon."}, ada))[0] == "stored"

    found, ok = await tools.call("archival_memory_search", {"query": "which instrument does the daughter play", "top_k": 1}, ada)
    assert ok and "cello" in found and "tunnel" not in found
    assert "Lyon" in (await tools.call("archival_memory_search", {"query": "Lyon"}, ada))[0]
    # Bob has nothing: Ada's passages are hers.
    assert await tools.call("archival_memory_search", {"query": "cello"}, bob) == ("nothing found in archival memory", True)

    anonymous = ToolContext(org_id=DEFAULT_ORG, agent_id=agent_id, agent_settings=agent_settings, chat_id="c", message={})
    result, ok = await tools.call("archival_memory_insert", {"content": fact}, anonymous)
    assert not ok and "who the user is" in result


async def test_conversation_search_finds_the_users_own_past_turns_in_any_chat(
    sessions: SessionFactory, database_url: str
) -> None:
    agent_id, agent_settings = await _agent(sessions)
    tools = await _tools(sessions, database_url, agent_settings)
    async with session_scope(sessions) as session:
        await chats_service.record_inbound(session, [
            InboundRecord(DEFAULT_ORG, agent_id, "chat-1", "m1", "My locker code is 4471.", "web", "ada", "ada"),
            InboundRecord(DEFAULT_ORG, agent_id, "chat-2", "m2", "Bob's locker code is 9902.", "web", "bob", "bob"),
            InboundRecord(DEFAULT_ORG, agent_id, "chat-3", "m-now", "What was my locker code?", "web", "ada", "ada"),
        ])
        await chats_service.save_history(session, [{
            "message_id": "a1", "agent_id": agent_id, "org_id": DEFAULT_ORG, "chat_id": "chat-1", "position": 3,
            "role": "assistant", "content": "Noted: your locker is 4471.", "reply_to": "m1", "channel": "web",
        }])

    found, ok = await tools.call("conversation_search", {"query": "locker code"}, _context(agent_id, agent_settings, "ada"))
    assert ok
    assert "My locker code is 4471." in found and "you: Noted: your locker is 4471." in found
    assert "9902" not in found  # Bob's
    assert "What was my locker code?" not in found  # the message being answered
    none, _ = await tools.call("conversation_search", {"query": "piano"}, _context(agent_id, agent_settings, "ada"))
    assert none == "nothing found in past conversations"
