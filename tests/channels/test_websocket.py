"""WebSocket ``/ws/agents/{id}``: the seed protocol as a client sees it, on the embedded bus
and on Redis, with the offline demo model and with a real OpenAI-compatible HTTP server."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.channels.helpers import (
    chat_messages,
    chunks,
    create_agent,
    eventually,
    receive_until_final,
    received,
    turn,
)
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app, settings_on_each_bus
from tests.support.ws import connect

STARTING = "Agent is starting…"


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, sqlite_url: str):  # type: ignore[no-untyped-def]
    return settings_on_each_bus(request, sqlite_url)


def _statuses(events: list[dict]) -> list[str]:
    return [e["message"] for e in events if e["type"] == "status"]


async def test_protocol_chat_per_connection_and_explicit_chat_id(settings) -> None:  # type: ignore[no-untyped-def]
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        agent_id = await create_agent(client)
        url = app.ws(f"/ws/agents/{agent_id}")

        async with connect(url) as socket:
            first = await turn(socket, "hello")
            # received first, then "starting" (the agent was stopped), chunks, the message
            assert first[0]["type"] == "status" and first[0]["message"] == "received"
            assert STARTING in _statuses(first)
            assert [e["type"] for e in first[-2:]] == ["chunk", "message"]
            ack = received(first)
            assert ack["message_id"] and ack["chat_id"]
            # Every status names the chat and, past "received", the message it is about.
            starting = next(e for e in first if e["type"] == "status" and e["message"] == STARTING)
            assert (starting["chat_id"], starting["reply_to"]) == (ack["chat_id"], ack["message_id"])
            answer = first[-1]
            assert answer["content"] == 'You said: "hello". That is message 1 of this chat.'
            assert "".join(chunks(first)) == answer["content"]
            # The demo model answers within one publish interval: its text comes as one chunk
            # (token-by-token streaming of a paced model: test_openai_compatible_agent_streams...).
            assert chunks(first), "the text came in chunk events before the answer"
            meta = answer["message_object"]
            assert meta["reply_to"] == ack["message_id"]
            assert meta["chat_id"] == ack["chat_id"]
            assert meta["message_id"] and meta["message_id"] != ack["message_id"]
            assert meta["usage"]["input_tokens"] > 0 and meta["usage"]["output_tokens"] > 0
            assert meta["usage"]["model"] == "demo"
            chat_id = ack["chat_id"]

            # Without a chat_id, the messages of one connection are one chat.
            second = await turn(socket, "and again")
            assert STARTING not in _statuses(second)
            assert received(second)["chat_id"] == chat_id
            assert second[-1]["content"] == 'You said: "and again". That is message 2 of this chat.'
            assert second[-1]["message_object"]["chat_id"] == chat_id

        # A new connection without chat_id starts a new chat ...
        async with connect(url) as socket:
            other = await turn(socket, "new here")
            assert received(other)["chat_id"] != chat_id
            assert other[-1]["content"].endswith("message 1 of this chat.")

        # ... and with an explicit chat_id it continues the old one.
        async with connect(url) as socket:
            third = await turn(socket, "back", chat_id=chat_id)
            assert received(third)["chat_id"] == chat_id
            assert third[-1]["content"] == 'You said: "back". That is message 3 of this chat.'
            assert third[-1]["message_object"]["chat_id"] == chat_id

            # Stopped agents start again on the next message, and say so.
            response = await client.post(f"/api/v1/agents/{agent_id}/stop")
            assert response.status_code == 200 and response.json()["status"] == "stopped"
            fourth = await turn(socket, "still there?", chat_id=chat_id)
            assert STARTING in _statuses(fourth)
            assert fourth[-1]["type"] == "message"
            assert fourth[-1]["content"].endswith("message 4 of this chat.")

        # The history holds the conversation: every user message and one reply to each.
        async def stored() -> list[dict]:
            items = await chat_messages(client, agent_id, chat_id)
            return items if len(items) == 8 else []

        items = await eventually(stored, what="the chat history")
        users = [m for m in items if m["role"] == "user"]
        assert [m["content"] for m in users] == ["hello", "and again", "back", "still there?"]
        replies = sorted(m["reply_to"] for m in items if m["role"] == "assistant")
        assert replies == sorted(m["message_id"] for m in users)


BAD_INPUT = [
    pytest.param(json.dumps({"type": "message", "content": "a\u0000b"}), "content: text holds a NUL", id="nul-character"),
    pytest.param("not json at all", "invalid message", id="not-json"),
    pytest.param(json.dumps(["a", "list"]), "invalid message", id="not-an-object"),
    pytest.param(json.dumps({"type": "ping", "content": "hi"}), "invalid message", id="wrong-type"),
    pytest.param(json.dumps({"content": "hi"}), "invalid message", id="no-type"),
    pytest.param(json.dumps({"type": "message"}), "content", id="missing-content"),
    pytest.param(json.dumps({"type": "message", "content": ""}), "content", id="empty-content"),
    pytest.param(json.dumps({"type": "message", "content": 42}), "content", id="content-not-text"),
    pytest.param(json.dumps({"type": "message", "content": "x" * 32_001}), "content", id="content-too-long"),
    pytest.param(json.dumps({"type": "message", "content": "hi", "chat_id": "no spaces!"}), "chat_id", id="bad-chat-id"),
    pytest.param(json.dumps({"type": "message", "content": "hi", "chat_id": 7}), "chat_id", id="chat-id-not-text"),
    pytest.param(json.dumps({"type": "message", "content": "hi", "surprise": 1}), "surprise", id="unknown-field"),
]


async def test_bad_input_gives_an_error_and_the_connection_stays_usable(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
        async with connect(app.ws(f"/ws/agents/{agent_id}"), max_size=2**20) as socket:
            for case in BAD_INPUT:
                raw, mentions = case.values
                await socket.send(raw)
                events = await receive_until_final(socket, timeout=10)
                assert len(events) == 1, (case.id, events)
                error = events[0]
                assert error["type"] == "error", (case.id, error)
                assert mentions in error["message"], (case.id, error)
                assert "Traceback" not in error["message"]
                if case.id == "nul-character":  # valid JSON: no position in the text named
                    assert "line 1" not in error["message"], error
            # A binary frame is not a message either, and does not end the connection.
            await socket.send(b'{"type": "message", "content": "bytes"}')
            events = await receive_until_final(socket, timeout=10)
            assert [e["type"] for e in events] == ["error"], events

            # Nothing above reached the agent; a good message is answered as the first one.
            events = await turn(socket, "finally valid")
            assert events[-1]["type"] == "message"
            assert events[-1]["content"] == 'You said: "finally valid". That is message 1 of this chat.'


async def test_unknown_agent_gets_an_error_then_close_4404(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with connect(app.ws("/ws/agents/nobody-here")) as socket:
            event = json.loads(await socket.recv())
            assert event["type"] == "error"
            assert "nobody-here" in event["message"] and "not found" in event["message"]
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
        assert "not found" in closed.value.rcvd.reason


async def test_openai_compatible_agent_streams_the_scripted_words(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        # 50 ms between tokens, slower than the publisher merges them: a chunk per token.
        fake.add_answer("The quick brown fox", prompt_tokens=17, completion_tokens=4, delay=0.05)
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                events = await turn(socket, "Tell me about foxes")
        assert chunks(events) == ["The", " quick", " brown", " fox"]
        answer = events[-1]
        assert answer["type"] == "message" and answer["content"] == "The quick brown fox"
        assert answer["message_object"]["usage"] == {"input_tokens": 17, "output_tokens": 4, "model": "fake-model"}
        [request] = [r for r in fake.requests if r.path.endswith("/chat/completions")]
        assert request.body["model"] == "fake-model" and request.body["stream"] is True
        assert request.body["messages"][-1] == {"role": "user", "content": "Tell me about foxes"}


async def test_provider_error_is_an_error_event_and_no_reply_is_stored(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        for _ in range(3):  # the client retries once; answer every attempt with a 500
            fake.add_error(500, "the model is on fire")
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
                async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                    failed = await turn(socket, "will this work?")
                    assert failed[-1]["type"] == "error", failed
                    assert "500" in failed[-1]["message"]
                    assert "on fire" not in failed[-1]["message"]  # no provider internals leak
                    assert not any(e["type"] == "message" for e in failed)
                    chat_id = received(failed)["chat_id"]
                    # Drain the scripted errors the retries did not use, then talk again.
                    while len(fake.requests) < 3:
                        await fake_request(fake)
                    ok = await turn(socket, "and now?")
                    assert ok[-1]["type"] == "message", ok
                    assert ok[-1]["content"] == "echo: and now?"

                async def stored() -> list[dict]:
                    items = await chat_messages(client, agent_id, chat_id)
                    return items if any(m["role"] == "assistant" for m in items) else []

                items = await eventually(stored, what="the second reply in the history")
        assert [(m["role"], m["content"]) for m in items] == [
            ("user", "will this work?"),
            ("user", "and now?"),
            ("assistant", "echo: and now?"),
        ]
        assert items[2]["reply_to"] == items[1]["message_id"]


async def fake_request(fake: FakeOpenAI) -> None:
    """Use one scripted answer of ``fake`` directly (consumes a leftover scripted error)."""
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(f"{fake.url}/chat/completions", json={"model": "m", "messages": []})
