"""The role_call tool in a turn: the role's prompt runs on the calling agent's model, its
answer reaches the agent; an unknown role is an error the model can react to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agenthub.config import Settings
from agenthub.engines.base import HostedAgent, Turn
from agenthub.engines.llm import LlmEngine
from agenthub.roles.library import RoleLibrary
from tests.engines.test_llm_engine import Recorded
from tests.runtime.helpers import migrated_sessions
from tests.support.fake_openai import FakeOpenAI

LAWYER_PROMPT = RoleLibrary().get("lawyer").prompt  # type: ignore[union-attr]


@pytest.fixture
async def sessions(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine, sessions = await migrated_sessions(sqlite_url)
    yield sessions
    await engine.dispose()


def _agent(server: FakeOpenAI) -> HostedAgent:
    return HostedAgent(
        id="desk", org_id="default", kind="llm", config_version=1,
        settings={"provider": "openai_compatible", "model_id": "desk-model", "base_url": server.url,
                  "system_prompt": "DESK", "tools": ["role_call"]},
    )


def _turn(agent: HostedAgent, text: str) -> Turn:
    return Turn(agent=agent, message_id="m1", chat_id="c1", text=text, position=0, message={})


def _desk(role: str) -> Any:
    """The agent asks ``role`` once, then answers with what it was told."""
    def respond(body: dict[str, Any]) -> str | dict[str, Any] | None:
        system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
        if system != "DESK":
            return None  # the role: the queued answer
        results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
        if results:
            return f"The desk says: {results[-1]}"
        return {"tool_calls": [{"name": "role_call", "arguments": {"role": role, "question": "May I end my lease?"}}]}
    return respond


async def test_role_call_runs_the_role_on_the_agents_model(
    settings: Settings, sessions, fake_openai: FakeOpenAI  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.responder = _desk("lawyer")
    fake_openai.add_answer("Yes, with three months notice.")
    engine = LlmEngine.from_settings(settings, sessions)
    events = Recorded()

    answer = await engine.answer(_turn(_agent(fake_openai), "Lease question"), events)

    assert answer.text == "The desk says: Yes, with three months notice."
    ask, role, final = (request.body for request in fake_openai.requests)
    assert role["model"] == "desk-model", "the role runs on the agent's provider, model and base_url"
    assert role["messages"] == [
        {"role": "system", "content": LAWYER_PROMPT},
        {"role": "user", "content": "May I end my lease?"},
    ]
    description = ask["tools"][0]["function"]["description"]
    assert "lawyer:" in description and "accountant:" in description and "hr:" in description
    assert answer.tool_calls == [{
        "name": "role_call", "arguments": {"role": "lawyer", "question": "May I end my lease?"},
        "result": "Yes, with three months notice.",
    }]
    assert [event["type"] for event in events.events] == ["tool_call", "tool_result"]
    assert answer.usage is not None
    role_words = len("Yes, with three months notice.".split())
    assert answer.usage.output_tokens >= role_words + len(answer.text.split()), "the role's tokens are billed"


async def test_an_unknown_role_is_an_error_listing_the_roles(
    settings: Settings, sessions, fake_openai: FakeOpenAI  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.responder = _desk("astrologer")
    engine = LlmEngine.from_settings(settings, sessions)

    answer = await engine.answer(_turn(_agent(fake_openai), "Stars?"), Recorded())

    assert answer.text.startswith("The desk says: error: there is no role 'astrologer' (roles: ")
    assert "lawyer" in answer.text and "hr" in answer.text
    assert len(fake_openai.requests) == 2, "no role ran"


async def test_a_role_from_roles_dir_is_used_as_edited(
    settings: Settings, sessions, fake_openai: FakeOpenAI, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    role = tmp_path / "lawyer.md"
    role.write_text("---\ndescription: ACME's lawyer\n---\nYou are ACME's lawyer, first edition.\n")
    fake_openai.responder = _desk("lawyer")
    engine = LlmEngine.from_settings(settings.model_copy(update={"roles_dir": tmp_path}), sessions)
    agent = _agent(fake_openai)

    await engine.answer(_turn(agent, "one"), Recorded())
    role.write_text("---\ndescription: ACME's lawyer\n---\nYou are ACME's lawyer, second edition, revised.\n")
    await engine.answer(_turn(agent, "two"), Recorded())

    prompts = [r.body["messages"][0]["content"] for r in fake_openai.requests if r.body["messages"][0]["content"] != "DESK"]
    assert prompts == ["You are ACME's lawyer, first edition.", "You are ACME's lawyer, second edition, revised."]
