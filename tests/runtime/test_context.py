"""The conversation a host rebuilds when it takes an agent on (after a restart, a crash, a
move to another host): every earlier turn, in order, even while the last answers are still
on their way to the database. Hosts built by ``build_host`` on the in-process bus and on
Redis, a real SQLite database, the model a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agenthub.agents import service as agents_service
from agenthub.agents.models import DEFAULT_ORG
from agenthub.agents.schemas import AgentCreate
from agenthub.bus import Bus, Subscription, keys
from agenthub.chats import service as chats_service
from agenthub.chats.service import InboundRecord
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import AgentHost, new_host_id
from tests.runtime.helpers import migrated_sessions
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings

AGENT = "rememberer"


class Chat:
    """One chat as the gateway writes it: each message stored (its position assigned),
    then put on the agent's input; answers read from the agent's output."""

    def __init__(self, bus: Bus, sessions: SessionFactory, output: Subscription, chat_id: str) -> None:
        self._bus = bus
        self._sessions = sessions
        self._output = output
        self.chat_id = chat_id

    async def say(self, text: str) -> str:
        message_id = uuid.uuid4().hex
        record = InboundRecord(
            org_id=DEFAULT_ORG, agent_id=AGENT, chat_id=self.chat_id, message_id=message_id,
            content=text, channel="web",
        )
        async with session_scope(self._sessions) as session:
            [position] = await chats_service.record_inbound(session, [record])
        await self._bus.add(keys.agent_input(AGENT), {
            "message_id": message_id, "agent_id": AGENT, "chat_id": self.chat_id, "text": text,
            "platform_user_id": None, "user_data": {}, "channel": "web", "position": position,
        })
        while True:
            event = await self._output.get(timeout=30)
            assert event is not None, f"no answer to {text!r}"
            if event.get("reply_to") == message_id and event["type"] in ("message", "error"):
                assert event["type"] == "message", event
                return str(event["response"])


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[SessionFactory]:
    engine, factory = await migrated_sessions(sqlite_url)
    try:
        yield factory
    finally:
        await engine.dispose()


@pytest.fixture
def model() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


async def _host(bus: Bus, sessions: SessionFactory, settings: Any) -> AgentHost:
    host = build_host(
        host_id=new_host_id("local"), role="local", bus=bus, session_factory=sessions, settings=settings,
        engines=build_engines(settings, sessions, bus),
    )
    await host.start()
    await host.host(AGENT)
    return host


def _dialogue(request_body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in request_body["messages"] if m["role"] != "system"]


async def test_a_new_host_rebuilds_the_conversation_in_order_before_the_answers_are_stored(
    bus: Bus, sessions: SessionFactory, model: FakeOpenAI, sqlite_url: str
) -> None:
    async with session_scope(sessions) as session:
        await agents_service.create(session, org_id=DEFAULT_ORG, data=AgentCreate.model_validate({
            "id": AGENT, "name": AGENT,
            "settings": {"provider": "openai_compatible", "model_id": "m", "base_url": model.url},
        }))
    settings = make_settings(database_url=sqlite_url)
    output = await bus.subscribe(keys.agent_output(AGENT))
    # No history worker runs: the answers stay on the history queue, as they do for the
    # moment between an answer and its storing (longer when the database is slow).
    chat = Chat(bus, sessions, output, "c1")
    try:
        first = await _host(bus, sessions, settings)
        assert await chat.say("My name is Ada.") == "echo: My name is Ada."
        assert await chat.say("I live in Paris.") == "echo: I live in Paris."
        await first.close()

        second = await _host(bus, sessions, settings)  # nothing of the chat in its memory
        try:
            assert await chat.say("Where do I live?") == "echo: Where do I live?"
        finally:
            await second.close()
    finally:
        await output.close()

    assert _dialogue(model.requests[-1].body) == [
        ("user", "My name is Ada."), ("assistant", "echo: My name is Ada."),
        ("user", "I live in Paris."), ("assistant", "echo: I live in Paris."),
        ("user", "Where do I live?"),
    ]
