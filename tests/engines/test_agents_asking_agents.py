"""run_agent: a multi_agent agent's sub-agent named by agent_id is another agent of its
organisation, run in-process; never another organisation's; never in an endless loop."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.agents import service as agents_service
from agenthub.agents.schemas import AgentCreate
from agenthub.config import Settings
from agenthub.db.engine import session_scope
from agenthub.engines.base import HostedAgent, Turn
from agenthub.engines.llm import MAX_AGENT_DEPTH, LlmEngine
from tests.engines.test_llm_engine import Recorded
from tests.runtime.helpers import migrated_sessions
from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
async def sessions(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine, sessions = await migrated_sessions(sqlite_url)
    yield sessions
    await engine.dispose()


async def _create(sessions, org_id: str, handle: str, server: FakeOpenAI, **settings: Any) -> HostedAgent:  # type: ignore[no-untyped-def]
    data = AgentCreate.model_validate({"id": handle, "name": handle, "settings": {
        "provider": "openai_compatible", "model_id": f"{handle}-model", "base_url": server.url,
        "system_prompt": f"PROMPT-{handle}", **settings,
    }})
    async with session_scope(sessions) as session:
        row = await agents_service.create(session, org_id=org_id, data=data)
        return HostedAgent(id=row.id, org_id=org_id, kind=row.kind, settings=dict(row.settings), config_version=1)


def _desk(body: dict[str, Any]) -> str | dict[str, Any]:
    """Every supervisor routes to `helper` once, then finishes; every other agent says who it is."""
    system = body["messages"][0]["content"]
    if any(tool["function"]["name"] == "route" for tool in body.get("tools") or []):
        if any(m["role"] == "tool" for m in body["messages"]):
            return {"tool_calls": [{"name": "route", "arguments": {"next": "FINISH"}}]}
        return {"tool_calls": [{"name": "route", "arguments": {"next": "helper"}}]}
    question = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
    return f"{system.split()[0]} answers {question}"


def _turn(agent: HostedAgent, text: str) -> Turn:
    return Turn(agent=agent, message_id="m1", chat_id="c1", text=text, position=0, message={"user_id": "u1"})


async def test_a_sub_agent_named_by_agent_id_answers(
    settings: Settings, sessions, fake_openai: FakeOpenAI  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.responder = _desk
    sub = [{"name": "helper", "description": "Helps", "agent_id": "billing-bot"}]
    desk = await _create(sessions, "default", "desk", fake_openai, agent_type="multi_agent", sub_agents=sub)
    await _create(sessions, "default", "billing-bot", fake_openai)
    events = Recorded()

    answer = await LlmEngine.from_settings(settings, sessions).answer(_turn(desk, "my bill?"), events)

    assert answer.text == "PROMPT-billing-bot answers my bill?"
    assert "".join(events.pieces) == answer.text
    assert [r.body["model"] for r in fake_openai.requests] == ["desk-model", "billing-bot-model", "desk-model"]
    assert answer.usage is not None and answer.usage.output_tokens >= 3 * 1


async def test_another_organisations_agent_is_not_found(
    settings: Settings, sessions, fake_openai: FakeOpenAI  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.responder = _desk
    sub = [{"name": "helper", "description": "Helps", "agent_id": "secret-bot"}]
    desk = await _create(sessions, "default", "desk", fake_openai, agent_type="multi_agent", sub_agents=sub)
    await _create(sessions, "org_other", "secret-bot", fake_openai)

    answer = await LlmEngine.from_settings(settings, sessions).answer(_turn(desk, "hi"), Recorded())

    assert "secret-bot-model" not in [r.body["model"] for r in fake_openai.requests]
    (result,) = [m for r in fake_openai.requests for m in r.body["messages"] if m["role"] == "tool"]
    assert result["content"] == "error: agent 'secret-bot' not found"
    assert answer.text == "PROMPT-desk answers hi", "the desk answers itself when no sub-agent could"


async def test_agents_asking_each_other_stop_at_the_depth_limit(
    settings: Settings, sessions, fake_openai: FakeOpenAI  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.responder = _desk
    ping = await _create(sessions, "default", "ping", fake_openai, agent_type="multi_agent",
                         sub_agents=[{"name": "helper", "description": "Helps", "agent_id": "pong"}])
    await _create(sessions, "default", "pong", fake_openai, agent_type="multi_agent",
                  sub_agents=[{"name": "helper", "description": "Helps", "agent_id": "ping"}])

    await LlmEngine.from_settings(settings, sessions).answer(_turn(ping, "loop?"), Recorded())

    supervisors = [r for r in fake_openai.requests if r.body.get("tools")]
    first_calls = [r for r in supervisors if not any(m["role"] == "tool" for m in r.body["messages"])]
    assert len(first_calls) == MAX_AGENT_DEPTH + 1, "the asking agent and MAX_AGENT_DEPTH agents below it"
    errors = [m["content"] for r in supervisors for m in r.body["messages"] if m["role"] == "tool"]
    assert any("at most" in error and "deep" in error for error in errors), errors
