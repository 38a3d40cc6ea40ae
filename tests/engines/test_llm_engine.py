"""The llm engine on its own: the conversation and the message through the graph of the
agent's type, the text streamed to the turn's events, the usage reported; a real SQLite
history and a real OpenAI-compatible HTTP server."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.chats import service as chats_service
from agenthub.chats.service import InboundRecord
from agenthub.config import Settings
from agenthub.db.engine import session_scope
from agenthub.engines.base import HostedAgent, Turn, Usage
from agenthub.engines.llm import LlmEngine
from agenthub.errors import InvalidInput
from tests.runtime.helpers import create_agent_row, migrated_sessions
from tests.support.fake_openai import FakeOpenAI


class Recorded:
    """The turn's events as the host would get them."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.events: list[dict[str, Any]] = []

    def text(self, piece: str) -> None:
        self.pieces.append(piece)

    async def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def _agent(**settings: Any) -> HostedAgent:
    return HostedAgent(
        id="helper", org_id="default", kind="llm", config_version=1,
        settings={"provider": "fake", "model_id": "demo", "system_prompt": "", **settings},
    )


def _turn(agent: HostedAgent, text: str, *, chat_id: str = "c1", position: int = 0) -> Turn:
    return Turn(agent=agent, message_id=f"m-{text}", chat_id=chat_id, text=text, position=position, message={})


@pytest.fixture
async def sessions(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine, sessions = await migrated_sessions(sqlite_url)
    yield sessions
    await engine.dispose()


async def test_answers_over_an_http_model_streaming_and_reporting_usage(
    settings: Settings, sessions, fake_openai: FakeOpenAI  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.add_answer("Paris is the capital", prompt_tokens=9, completion_tokens=4)
    engine = LlmEngine.from_settings(settings, sessions)
    agent = _agent(provider="openai_compatible", model_id="m", base_url=fake_openai.url, system_prompt="Be brief.")
    events = Recorded()

    answer = await engine.answer(_turn(agent, "Capital of France?"), events)

    assert answer.text == "Paris is the capital"
    assert "".join(events.pieces) == answer.text and len(events.pieces) > 1
    assert answer.usage == Usage(provider="openai_compatible", model="m", input_tokens=9, output_tokens=4)
    (request,) = fake_openai.requests
    assert [m["content"] for m in request.body["messages"]] == ["Be brief.", "Capital of France?"]


async def test_the_conversation_comes_from_the_history_then_from_memory(
    settings: Settings, sessions  # type: ignore[no-untyped-def]
) -> None:
    await create_agent_row(sessions, "helper")
    async with session_scope(sessions) as session:
        positions = await chats_service.record_inbound(session, [
            InboundRecord(org_id="default", agent_id="helper", chat_id="c1", message_id=f"m{n}",
                          content=text, channel="web")
            for n, text in enumerate(("earlier", "now"))
        ])
    engine = LlmEngine.from_settings(settings, sessions)
    agent = _agent()

    first = await engine.answer(_turn(agent, "now", position=positions[1]), Recorded())
    again = await engine.answer(_turn(agent, "again"), Recorded())
    elsewhere = await engine.answer(_turn(agent, "hello", chat_id="c2"), Recorded())

    assert first.text == 'You said: "now". That is message 2 of this chat.', "the history was read"
    assert again.text.endswith("message 3 of this chat."), "the chat so far was remembered"
    assert elsewhere.text.endswith("message 1 of this chat."), "chats are apart"
    assert set(agent.chats) == {"c1", "c2"}


def test_an_agent_type_without_a_graph_is_refused_before_hosting(settings: Settings, sessions) -> None:  # type: ignore[no-untyped-def]
    engine = LlmEngine.from_settings(settings, sessions)

    engine.check(_agent())
    engine.check(_agent(agent_type="simple"))
    with pytest.raises(InvalidInput, match="swarm") as refused:
        engine.check(_agent(agent_type="swarm"))
    assert refused.value.field == "settings.agent_type"
