"""The whole system as a user runs it: ``agenthub serve`` as a real process, a real
OpenAI-compatible model server, real PostgreSQL and Redis, real clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.channels.helpers import (
    agent_status,
    chat_messages,
    chunks,
    create_agent,
    eventually,
    process_alive,
    receive_until_final,
    received,
    send,
    turn,
)
from tests.e2e.processes import clean_env, run_cli, serve
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse
from tests.support.ws import connect

pytestmark = pytest.mark.e2e

PLATFORM_KEY = "sk-platform-key-never-logged-0123456789"
SLOW_TEXT = "one two three four five six seven eight nine ten"


def _dialogue(body: dict) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in body["messages"] if m["role"] != "system"]


def _completions(fake: FakeOpenAI) -> list[dict]:
    return [r.body for r in fake.requests if r.path.endswith("/chat/completions")]


@pytest.mark.postgres
@pytest.mark.redis
async def test_serve_survives_a_killed_runner_and_keeps_the_conversation(
    tmp_path: Path, postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    env = clean_env(
        DATABASE_URL=postgres_url,
        REDIS_URL=redis_server_url,
        REDIS_KEY_PREFIX=redis_prefix,
        PROCESS_CHECK_INTERVAL="0.2",
        AGENT_RUNNER_HEARTBEAT_INTERVAL="0.5",
        STOP_GRACE_PERIOD="2",
        DEMO_AGENT="false",
        OPENAI_API_KEY=PLATFORM_KEY,
    )
    migrated = run_cli("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "revision" in migrated.stdout

    with FakeOpenAI() as fake:
        fake.add_answer("Hello from the fake model", prompt_tokens=11, completion_tokens=5)
        fake.add_answer("Second answer here", prompt_tokens=19, completion_tokens=3)
        fake.add_answer("Streaming over SSE", prompt_tokens=23, completion_tokens=3, delay=0.05)
        fake.add_answer(SLOW_TEXT, prompt_tokens=31, completion_tokens=10, delay=0.3)
        # Nothing more is scripted: later requests get the fallback "echo: <last user message>".

        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model",
                    base_url=fake.url, isolation="process",
                )

                async with connect(server.ws(f"/ws/agents/{agent_id}")) as socket:
                    # Two turns over the WebSocket.
                    first = await turn(socket, "Hi there", timeout=60)
                    assert first[-1]["type"] == "message", first
                    assert first[-1]["content"] == "Hello from the fake model"
                    assert "".join(chunks(first)) == "Hello from the fake model"
                    assert first[-1]["message_object"]["usage"] == {
                        "input_tokens": 11, "output_tokens": 5, "model": "fake-model",
                    }
                    chat_id = received(first)["chat_id"]
                    # Typed on at once: nothing waits for the history worker to store the
                    # answers; the restarted runner below still sees every turn, in order.
                    second = await turn(socket, "And a second thing")
                    assert second[-1]["content"] == "Second answer here"
                    assert _dialogue(_completions(fake)[1]) == [
                        ("user", "Hi there"), ("assistant", "Hello from the fake model"),
                        ("user", "And a second thing"),
                    ]

                    # The agent runs in a runner process of its own.
                    status = await agent_status(client, agent_id)
                    assert status["status"] == "running" and status["isolation"] == "process"
                    first_pid = status["pid"]
                    assert first_pid and first_pid != server.process.pid

                    # SSE, in a chat of its own: usage as the model server reported it.
                    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "Over SSE"})
                    events = [(n, d) for n, d in parse_sse(response.text) if n != "status"]
                    assert [n for n, _ in events] == ["chunk", "chunk", "chunk", "message", "usage", "done"], events
                    assert events[3][1]["content"] == "Streaming over SSE"
                    assert events[3][1]["chat_id"] != chat_id
                    assert events[4][1] == {"input_tokens": 23, "output_tokens": 3, "model": "fake-model"}

                    # The slow answer: kill the runner as soon as it has begun to stream.
                    await send(socket, "Tell me slowly")
                    seen: list[dict] = []
                    async with asyncio.timeout(30):
                        while not any(e["type"] == "chunk" for e in seen):
                            seen.append(json.loads(await socket.recv()))
                    assert not any(e["type"] in ("message", "error") for e in seen), seen
                    os.kill(first_pid, signal.SIGKILL)

                    # The agent comes back by itself and the waiting client gets its answer.
                    seen += await receive_until_final(socket, timeout=60)
                    answer = seen[-1]
                    assert answer["type"] == "message", seen
                    assert answer["content"] == "echo: Tell me slowly"  # the retry got the fallback
                    assert answer["message_object"]["reply_to"] == received(seen)["message_id"]

                    async def restarted() -> dict | None:
                        s = await agent_status(client, agent_id)
                        return s if s["status"] == "running" and s["pid"] not in (None, first_pid) else None

                    status = await eventually(restarted, timeout=30, what="the runner to come back")
                    assert status["restart_count"] >= 1
                    assert not process_alive(first_pid)
                    second_pid = status["pid"]

                    # The conversation goes on, with every earlier turn in the model's context.
                    fourth = await turn(socket, "And after the crash")
                    assert fourth[-1]["type"] == "message", fourth
                    assert fourth[-1]["content"] == "echo: And after the crash"
                    assert _dialogue(_completions(fake)[-1]) == [
                        ("user", "Hi there"), ("assistant", "Hello from the fake model"),
                        ("user", "And a second thing"), ("assistant", "Second answer here"),
                        ("user", "Tell me slowly"), ("assistant", "echo: Tell me slowly"),
                        ("user", "And after the crash"),
                    ]

                # Every user message once, exactly one reply to each.
                items = await eventually(
                    lambda: _has_messages(client, agent_id, chat_id, 8), what="the whole chat stored"
                )
                users = [m for m in items if m["role"] == "user"]
                replies = [m for m in items if m["role"] == "assistant"]
                assert sorted(m["content"] for m in users) == sorted(
                    ["Hi there", "And a second thing", "Tell me slowly", "And after the crash"]
                )
                assert sorted(m["reply_to"] for m in replies) == sorted(m["message_id"] for m in users)
                assert {m["content"] for m in replies} == {
                    "Hello from the fake model", "Second answer here",
                    "echo: Tell me slowly", "echo: And after the crash",
                }
                assert not any(SLOW_TEXT.startswith(m["content"]) for m in replies)

            # SIGTERM: a clean exit within a few seconds, no runner left behind.
            assert_clean_exit(await server.terminate(timeout=15), server.output())
            assert PLATFORM_KEY not in server.output(), "a secret reached the logs"
            assert '"agent_id"' in server.output(), "log lines carry the agent id"
            await eventually(
                lambda: _gone(second_pid), timeout=10, what="the runner process to exit with serve"
            )


async def _has_messages(client: httpx.AsyncClient, agent_id: str, chat_id: str, count: int) -> list[dict] | None:
    items = await chat_messages(client, agent_id, chat_id)
    return items if len(items) >= count and sum(m["role"] == "assistant" for m in items) * 2 >= count else None


def assert_clean_exit(returncode: int, output: str) -> None:
    """A graceful shutdown after SIGTERM. uvicorn re-raises the signal once it has shut
    down, so the status is "terminated by SIGTERM" (-15, shell 143) rather than 0."""
    assert returncode in (0, -signal.SIGTERM), (returncode, output[-4000:])
    assert "Application shutdown complete" in output, output[-4000:]


async def _gone(pid: int) -> bool:
    return not process_alive(pid)


async def test_serve_embedded_default_demo_agent_answers(tmp_path: Path) -> None:
    env = clean_env()  # no DATABASE_URL, no REDIS_URL, DEMO_AGENT unset
    async with serve(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
            health = (await client.get("/health")).json()
        assert health["checks"]["database"]["backend"] == "sqlite"
        assert health["checks"]["bus"]["backend"] == "memory"
        async with connect(server.ws("/ws/agents/demo")) as socket:
            first = await turn(socket, "hello", timeout=60)
            second = await turn(socket, "hello again")
        assert first[-1]["content"] == 'You said: "hello". That is message 1 of this chat.'
        assert second[-1]["content"] == 'You said: "hello again". That is message 2 of this chat.'
        assert (tmp_path / "data" / "agenthub.db").is_file()
        assert_clean_exit(await server.terminate(timeout=15), server.output())


async def test_sigterm_lets_an_sse_answer_still_streaming_finish_for_the_grace_period_only(
    tmp_path: Path,
) -> None:
    """An answer that would stream for far longer than STOP_GRACE_PERIOD does not hold the
    shutdown up: the stream is cut once the grace period is over, and serve exits."""
    env = clean_env(DEMO_AGENT="false", STOP_GRACE_PERIOD="1")
    with FakeOpenAI() as fake:
        fake.add_answer(SLOW_TEXT, delay=3.0)  # half a minute
        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=server.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
                async with client.stream(
                    "POST", f"/api/v1/agents/{agent_id}/chat", json={"content": "Tell me slowly"}
                ) as response:
                    lines = response.aiter_lines()
                    while (line := await anext(lines)) != "event: chunk":
                        pass  # the answer has begun to stream
                    started = asyncio.get_running_loop().time()
                    server.process.send_signal(signal.SIGTERM)
                    with pytest.raises(httpx.HTTPError):  # cut: the stream never gets to `done`
                        async for line in lines:
                            assert line != "event: done"
            assert_clean_exit(await server.terminate(timeout=15), server.output())
            assert asyncio.get_running_loop().time() - started < 15
