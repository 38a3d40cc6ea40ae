"""The OpenAI-compatible API, used with the official ``openai`` client (``AsyncOpenAI`` with
``base_url`` at a running AgentHub's ``/v1`` and an AgentHub API key as its key), against
agents whose model is a real OpenAI-compatible HTTP server with scripted answers and usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI

from tests.agents.helpers import migrated
from tests.billing.helpers import cost as cost_of
from tests.billing.helpers import logged_spend
from tests.channels.helpers import chat_messages, create_agent, eventually
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import RunningApp, make_settings, running_app


@dataclass
class Setup:
    app: RunningApp
    owner: httpx.AsyncClient
    model: FakeOpenAI

    async def key(self, **body: Any) -> dict[str, Any]:
        response = await self.owner.post("/api/v1/api-keys", json={"name": "an OpenAI client", **body})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def client(self, api_key: str, **options: Any) -> AsyncOpenAI:
        return AsyncOpenAI(base_url=f"{self.app.url}/v1", api_key=api_key, **options)

    async def agent(self, **settings: Any) -> str:
        """An agent on gpt-4o-mini (priced) whose model is the fake server."""
        return await create_agent(
            self.owner, provider="openai", model_id="gpt-4o-mini", base_url=self.model.url, **settings
        )


@asynccontextmanager
async def setup(database_url: str, **overrides: Any) -> AsyncIterator[Setup]:
    await migrated(database_url)
    with FakeOpenAI() as model:
        settings = make_settings(database_url=database_url, openai_api_key="sk-test-openai-api", **overrides)
        async with running_app(settings) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as owner:
                yield Setup(app, owner, model)


def _sent_to_model(model: FakeOpenAI) -> list[list[tuple[str, str]]]:
    """What the agent's model was asked each time: the conversation, without the system prompt."""
    return [
        [(m["role"], m["content"]) for m in request.body["messages"] if m["role"] != "system"]
        for request in model.requests if request.path.endswith("/chat/completions")
    ]


async def test_a_completion_answers_with_usage_and_keeps_the_conversation(database_url: str) -> None:
    async with setup(database_url) as hub:
        hub.model.add_answer("Paris is the capital.", prompt_tokens=1000, completion_tokens=500)
        hub.model.add_answer("About two million.", prompt_tokens=40, completion_tokens=4)
        agent = await hub.agent()
        key = await hub.key()
        client = hub.client(key["key"])

        models = await client.models.list()
        assert [m.id for m in models.data] == [agent]
        assert (await client.models.retrieve(agent)).id == agent

        first = await client.chat.completions.create(
            model=agent, messages=[
                {"role": "system", "content": "You are a geography bot."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
        )
        assert first.object == "chat.completion" and first.model == agent
        assert first.choices[0].message.role == "assistant"
        assert first.choices[0].message.content == "Paris is the capital."
        assert first.choices[0].finish_reason == "stop"
        assert first.usage is not None
        assert (first.usage.prompt_tokens, first.usage.completion_tokens, first.usage.total_tokens) == (1000, 500, 1500)
        chat_id = (first.model_extra or {})["chat_id"]

        # The client sends the whole conversation, as OpenAI's API needs; AgentHub sends the
        # agent only the new message and the agent answers from the history it keeps.
        second = await client.chat.completions.create(
            model=agent, messages=[
                {"role": "system", "content": "You are a geography bot."},
                {"role": "user", "content": "What is the capital of France?"},
                {"role": "assistant", "content": "Paris is the capital."},
                {"role": "user", "content": [{"type": "text", "text": "How many people live there?"}]},
            ],
        )
        assert second.choices[0].message.content == "About two million."
        assert (second.model_extra or {})["chat_id"] == chat_id
        assert _sent_to_model(hub.model) == [
            [("user", "What is the capital of France?")],
            [("user", "What is the capital of France?"), ("assistant", "Paris is the capital."),
             ("user", "How many people live there?")],
        ]
        stored = await _history(hub, agent, chat_id, 4)
        assert [(m["role"], m["content"]) for m in stored] == [
            ("user", "What is the capital of France?"), ("assistant", "Paris is the capital."),
            ("user", "How many people live there?"), ("assistant", "About two million."),
        ]

        # Usage is recorded against the key, as for any turn.
        turns, cost = await _spend(hub, key["id"], turns=2)
        assert cost == cost_of(1000, 500) + cost_of(40, 4)


async def _history(hub: Setup, agent: str, chat_id: str, count: int) -> list[dict[str, Any]]:
    """The chat's messages once ``count`` are stored (answers are stored just after they are sent)."""

    async def stored() -> list[dict[str, Any]] | None:
        messages = await chat_messages(hub.owner, agent, chat_id)
        return messages if len(messages) >= count else None

    return await eventually(stored, what=f"{count} messages in chat {chat_id}")


async def _spend(hub: Setup, key_id: str, *, turns: int) -> tuple[int, Decimal]:
    """(turns, cost) logged for the key once ``turns`` are."""

    async def logged() -> tuple[int, Decimal] | None:
        found = await logged_spend(hub.app, api_key_id=key_id)
        return found if found[0] >= turns else None

    return await eventually(logged, what=f"{turns} turns of usage")


@pytest.fixture(params=["memory", "redis"])
def bus_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for the in-process bus, or for Redis with the test's own key prefix."""
    if request.param == "memory":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_server_url"),
        "redis_prefix": request.getfixturevalue("redis_prefix"),
    }


async def test_a_streamed_completion_sends_the_text_as_the_agent_streams_it(
    sqlite_url: str, bus_options: dict[str, Any]
) -> None:
    async with setup(sqlite_url, **bus_options) as hub:
        # Words 50 ms apart, slower than AgentHub merges them: each comes as a chunk of its own.
        hub.model.add_answer("One two three four", prompt_tokens=12, completion_tokens=4, delay=0.05)
        hub.model.add_answer("Five six", prompt_tokens=20, completion_tokens=2, delay=0.05)
        agent = await hub.agent()
        client = hub.client((await hub.key())["key"])

        stream = await client.chat.completions.create(
            model=agent, messages=[{"role": "user", "content": "Count for me"}], stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
        assert len({chunk.id for chunk in chunks}) == 1
        assert chunks[0].choices[0].delta.role == "assistant"
        texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
        assert "".join(texts) == "One two three four"
        assert len(texts) > 1, texts  # streamed, not sent whole at the end
        finished = [c for c in chunks if c.choices and c.choices[0].finish_reason]
        assert [c.choices[0].finish_reason for c in finished] == ["stop"]
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (12, 4)
        assert chunks[-1].usage.total_tokens == 16
        chat_id = (chunks[0].model_extra or {})["chat_id"]

        # Without include_usage no usage chunk; the stream ends with the finishing chunk.
        stream = await client.chat.completions.create(
            model=agent, messages=[{"role": "user", "content": "Go on"}], stream=True, extra_body={"chat_id": chat_id},
        )
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Five six"
        assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage is None
        assert _sent_to_model(hub.model)[-1] == [("user", "Count for me"), ("assistant", "One two three four"),
                                                 ("user", "Go on")]


async def test_user_and_chat_id_choose_the_conversation(sqlite_url: str) -> None:
    async with setup(sqlite_url) as hub:
        agent = await hub.agent()
        client = hub.client((await hub.key())["key"])

        async def ask(content: str, **options: Any) -> str:
            answer = await client.chat.completions.create(
                model=agent, messages=[{"role": "user", "content": content}], **options
            )
            return str((answer.model_extra or {})["chat_id"])

        alice = await ask("I am Alice", user="alice")
        bob = await ask("I am Bob", user="bob")
        assert alice != bob
        assert await ask("Alice again", user="alice") == alice  # the same user goes on
        mine = await ask("No user")
        assert mine not in (alice, bob) and await ask("Still no user") == mine
        assert await ask("Into Bob's", user="alice", extra_body={"chat_id": bob}) == bob  # chat_id wins
        assert await ask("A new one", extra_body={"chat_id": "my-own-chat"}) == "my-own-chat"
        assert _sent_to_model(hub.model)[2] == [("user", "I am Alice"), ("assistant", "echo: I am Alice"),
                                               ("user", "Alice again")]
        # A key of its own has conversations of its own.
        other = hub.client((await hub.key())["key"])
        answer = await other.chat.completions.create(model=agent, messages=[{"role": "user", "content": "hi"}])
        assert (answer.model_extra or {})["chat_id"] != mine
