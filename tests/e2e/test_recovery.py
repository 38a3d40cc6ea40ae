"""A server stopped while it owes answers answers them after its next start: embedded (the
in-process bus lost the messages, the database still has them) and with PostgreSQL +
Redis (the messages still wait on their agents' input streams)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.channels.helpers import agent_status, chat_messages, create_agent, eventually, received, send, turn
from tests.e2e.processes import clean_env, serve
from tests.runtime.helpers import migrated_sessions
from tests.support.fake_openai import FakeOpenAI
from tests.support.ws import connect

SLOW_TEXT = "one two three four five six seven eight nine ten"


def _dialogues(fake: FakeOpenAI) -> list[list[tuple[str, str]]]:
    """What the model was sent, request by request (system prompts left out)."""
    return [
        [(m["role"], m["content"]) for m in r.body["messages"] if m["role"] != "system"]
        for r in fake.requests
        if r.path.endswith("/chat/completions")
    ]


def _asked(fake: FakeOpenAI, text: str) -> int:
    """How many times the model was asked to answer ``text``."""
    return sum(1 for dialogue in _dialogues(fake) if dialogue[-1] == ("user", text))


async def _until(socket: Any, done: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not done(seen):
            seen.append(json.loads(await socket.recv()))
    return seen


async def test_messages_a_killed_embedded_server_owed_are_answered_once_after_it_starts_again(
    tmp_path: Path,
) -> None:
    env = clean_env(DEMO_AGENT="false")
    with FakeOpenAI() as fake:
        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                agent_id = await create_agent(client, provider="openai_compatible", model_id="m", base_url=fake.url)
            async with connect(server.ws(f"/ws/agents/{agent_id}")) as socket:
                first = await turn(socket, "Hello", timeout=60)
                assert first[-1]["content"] == "echo: Hello", first
                chat_id = received(first)["chat_id"]

                # A slow answer begins; a second message of the chat is accepted behind it.
                fake.add_answer(SLOW_TEXT, delay=0.5)
                await send(socket, "Tell me slowly", chat_id=chat_id)
                await send(socket, "And then this", chat_id=chat_id)
                seen = await _until(socket, lambda events: (
                    sum(e.get("message") == "received" for e in events) == 2
                    and any(e["type"] == "chunk" for e in events)
                ))
                assert not any(e["type"] in ("message", "error") for e in seen), seen
                os.killpg(server.process.pid, signal.SIGKILL)
                assert await asyncio.to_thread(server.process.wait, 10) == -signal.SIGKILL

        # Started again on the same database: both are answered, in order, without a client.
        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:

                async def answered() -> list[dict[str, Any]] | None:
                    items = await chat_messages(client, agent_id, chat_id)
                    return items if sum(m["role"] == "assistant" for m in items) == 3 else None

                items = await eventually(answered, timeout=60, what="the owed answers stored")
            assert [(m["role"], m["content"]) for m in items] == [
                ("user", "Hello"), ("assistant", "echo: Hello"),
                ("user", "Tell me slowly"), ("assistant", "echo: Tell me slowly"),
                ("user", "And then this"), ("assistant", "echo: And then this"),
            ]
            assert [m["reply_to"] for m in items[1::2]] == [m["message_id"] for m in items[0::2]]
            assert _dialogues(fake)[-1] == [
                ("user", "Hello"), ("assistant", "echo: Hello"),
                ("user", "Tell me slowly"), ("assistant", "echo: Tell me slowly"),
                ("user", "And then this"),
            ]
            await server.terminate(timeout=15)

        # A third start owes nothing: the next message of the chat is answered after
        # whatever a start would have taken up again, and nothing was.
        async with serve(env=env, cwd=tmp_path) as server:
            async with connect(server.ws(f"/ws/agents/{agent_id}")) as socket:
                last = await turn(socket, "Still there?", chat_id=chat_id, timeout=60)
            assert last[-1]["content"] == "echo: Still there?", last
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                items = await eventually(
                    lambda: _stored(client, agent_id, chat_id, 8), what="the last turn stored"
                )
        assert [m["content"] for m in items if m["role"] == "assistant"] == [
            "echo: Hello", "echo: Tell me slowly", "echo: And then this", "echo: Still there?",
        ]
        assert (_asked(fake, "Tell me slowly"), _asked(fake, "And then this")) == (2, 1)


async def _stored(client: httpx.AsyncClient, agent_id: str, chat_id: str, count: int) -> list[dict[str, Any]] | None:
    items = await chat_messages(client, agent_id, chat_id)
    return items if len(items) >= count else None


async def test_a_message_a_stopped_production_server_owed_is_answered_after_it_starts_again(
    tmp_path: Path, postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    """PostgreSQL + Redis, an ``isolation: process`` agent: ``serve`` stopped with Ctrl-C
    (SIGINT to its process group) while the agent answers. The message stays pending on the
    agent's input stream; the next start runs the agent again, which answers it, with no
    client and no ``/start``."""
    engine, _sessions = await migrated_sessions(postgres_url)
    await engine.dispose()
    env = clean_env(
        DEMO_AGENT="false", DATABASE_URL=postgres_url, REDIS_URL=redis_server_url, REDIS_KEY_PREFIX=redis_prefix,
        STOP_GRACE_PERIOD="0.5",
    )
    with FakeOpenAI() as fake:
        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="m", base_url=fake.url, isolation="process",
                )
            fake.add_answer(SLOW_TEXT, delay=1.0)
            async with connect(server.ws(f"/ws/agents/{agent_id}")) as socket:
                await send(socket, "Tell me slowly")
                seen = await _until(socket, lambda events: any(e["type"] == "chunk" for e in events))
                chat_id = received(seen)["chat_id"]
                os.killpg(server.process.pid, signal.SIGINT)
                await asyncio.to_thread(server.process.wait, 30)

        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                items = await eventually(
                    lambda: _stored(client, agent_id, chat_id, 2), timeout=60, what="the owed answer stored"
                )
                assert [(m["role"], m["content"]) for m in items] == [
                    ("user", "Tell me slowly"), ("assistant", "echo: Tell me slowly"),
                ]
                assert (await agent_status(client, agent_id))["status"] == "running"
            await server.terminate(timeout=30)
    assert _asked(fake, "Tell me slowly") == 2
