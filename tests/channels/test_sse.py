"""HTTP streaming: ``POST /api/v1/agents/{id}/chat`` answers as Server-Sent Events, here
against a real OpenAI-compatible HTTP server with scripted answers and usage."""

from __future__ import annotations

import httpx

from tests.channels.helpers import assert_json_error, create_agent
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.sse import parse_sse


def _names(events: list[tuple[str, dict]]) -> list[str]:
    return [name for name, _ in events if name != "status"]


async def test_sse_streams_chunks_then_message_usage_done_and_keeps_the_chat(sqlite_url: str) -> None:
    # Tokens 50 ms apart, slower than the publisher merges them: each is a chunk of its own.
    with FakeOpenAI() as fake:
        fake.add_answer("Alpha beta gamma", prompt_tokens=21, completion_tokens=3, delay=0.05)
        fake.add_answer("Delta epsilon", prompt_tokens=34, completion_tokens=2, delay=0.05)
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
                response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "Start please"})
                assert response.status_code == 200, response.text
                assert response.headers["content-type"].startswith("text/event-stream")
                first = parse_sse(response.text)
                assert _names(first) == ["chunk", "chunk", "chunk", "message", "usage", "done"], first
                # The ids come first: a client whose stream drops can still find its answer.
                assert first[0] == ("status", {
                    "message": "received", "message_id": response.headers["x-message-id"],
                    "chat_id": response.headers["x-chat-id"],
                })
                assert first[1] == ("status", {
                    "message": "Agent is starting…", "chat_id": response.headers["x-chat-id"],
                    "reply_to": response.headers["x-message-id"],
                })
                assert [d["content"] for n, d in first if n == "chunk"] == ["Alpha", " beta", " gamma"]
                message = next(d for n, d in first if n == "message")
                usage = next(d for n, d in first if n == "usage")
                done = first[-1][1]
                assert message["content"] == "Alpha beta gamma"
                assert usage == {"input_tokens": 21, "output_tokens": 3, "model": "fake-model"}
                chat_id = message["chat_id"]
                assert chat_id == done["chat_id"] == response.headers["x-chat-id"]
                assert message["reply_to"] == done["message_id"] == response.headers["x-message-id"]

                # The same chat goes on: the model sees the first turn, the ids stay.
                response = await client.post(
                    f"/api/v1/agents/{agent_id}/chat", json={"content": "Go on", "chat_id": chat_id}
                )
                second = parse_sse(response.text)
                assert _names(second) == ["chunk", "chunk", "message", "usage", "done"], second
                message = next(d for n, d in second if n == "message")
                assert message["content"] == "Delta epsilon" and message["chat_id"] == chat_id
                assert next(d for n, d in second if n == "usage") == {
                    "input_tokens": 34, "output_tokens": 2, "model": "fake-model",
                }

                # Without chat_id a new chat begins.
                response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "Fresh"})
                third = parse_sse(response.text)
                assert next(d for n, d in third if n == "message")["chat_id"] != chat_id

        completions = [r.body for r in fake.requests if r.path.endswith("/chat/completions")]
        assert [(m["role"], m["content"]) for m in completions[1]["messages"] if m["role"] != "system"] == [
            ("user", "Start please"), ("assistant", "Alpha beta gamma"), ("user", "Go on"),
        ]
        assert [m["content"] for m in completions[2]["messages"] if m["role"] != "system"] == ["Fresh"]


async def test_sse_errors_before_streaming_are_json(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
            url = f"/api/v1/agents/{agent_id}/chat"

            error = assert_json_error(await client.post("/api/v1/agents/no-such-agent/chat", json={"content": "hi"}), 404)
            assert "no-such-agent" in error["message"]

            for body in ({}, {"content": ""}, {"content": "x" * 32_001}, {"content": "hi", "chat_id": "bad id"},
                         {"content": "hi", "extra": True}, ["content"], {"content": "a\u0000b"}):
                assert_json_error(await client.post(url, json=body), 422)

            error = assert_json_error(
                await client.post(url, content=b'{"content": "unfinished', headers={"content-type": "application/json"}),
                400,
            )
            assert "JSON" in error["message"]

            # None of that reached the agent: the first real message is message 1.
            response = await client.post(url, json={"content": "now properly"})
            events = parse_sse(response.text)
            message = next(d for n, d in events if n == "message")
            assert message["content"] == 'You said: "now properly". That is message 1 of this chat.'


async def test_sse_provider_error_gives_error_then_done(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        for _ in range(3):  # every attempt of the client (it retries once) fails
            fake.add_error(500, "the model is on fire")
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
                response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hello?"})
        assert response.status_code == 200
        events = parse_sse(response.text)
        assert _names(events) == ["error", "done"], events
        assert "500" in events[-2][1]["message"]
        assert "on fire" not in response.text
