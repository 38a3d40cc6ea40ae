"""A WebSocket client that reconnects with ``?chat_id=...&after=<message id>`` first gets, in
order and once each, the answers and errors of that chat it missed, then live ones."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from agenthub.db import migrate
from agenthub.db.engine import create_engine
from tests.channels.helpers import (
    chat_messages,
    create_agent,
    eventually,
    receive_until_final,
    received,
    send,
    turn,
)
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app, settings_on_each_bus
from tests.support.ws import connect


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, sqlite_url: str):  # type: ignore[no-untyped-def]
    return settings_on_each_bus(request, sqlite_url)


async def _next(socket: Any) -> dict[str, Any]:
    async with asyncio.timeout(20):
        return json.loads(await socket.recv())


async def _received_only(socket: Any) -> dict[str, Any]:
    """Read up to the ``received`` status of the message just sent."""
    while True:
        event = await _next(socket)
        if event["type"] == "status" and event["message"] == "received":
            return event


async def _answers(client: httpx.AsyncClient, agent_id: str, chat_id: str, count: int) -> list[dict]:
    async def stored() -> list[dict]:
        items = [m for m in await chat_messages(client, agent_id, chat_id) if m["role"] == "assistant"]
        return items if len(items) >= count else []

    return await eventually(stored, what=f"{count} answers in the history")


async def test_reconnecting_after_a_message_replays_the_missed_answers_in_order(settings) -> None:  # type: ignore[no-untyped-def]
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        agent_id = await create_agent(client)
        path = f"/ws/agents/{agent_id}"
        async with connect(app.ws(path)) as socket:
            first = await turn(socket, "one")
            chat_id = received(first)["chat_id"]
            # Two more messages; the client goes away before reading their answers.
            await send(socket, "two")
            two = await _received_only(socket)
            await send(socket, "three")
            await _received_only(socket)
        stored = await _answers(client, agent_id, chat_id, 3)

        async with connect(app.ws(f"{path}?chat_id={chat_id}&after={two['message_id']}")) as socket:
            replayed = [await _next(socket) for _ in range(2)]
            assert [e["type"] for e in replayed] == ["message", "message"], replayed
            assert [e["content"] for e in replayed] == [
                'You said: "two". That is message 2 of this chat.',
                'You said: "three". That is message 3 of this chat.',
            ]
            assert all(e["chat_id"] == chat_id for e in replayed)
            assert replayed[0]["message_object"]["reply_to"] == two["message_id"]
            # Then live: a message without chat_id continues the chat named in the URL, and
            # nothing of the replay comes twice before its answer.
            live = await turn(socket, "four")
            assert [e["type"] for e in live if e["type"] in ("message", "error")] == ["message"], live
            assert live[-1]["content"] == 'You said: "four". That is message 4 of this chat.'
            assert received(live)["chat_id"] == chat_id

        # After an answer's id: only what came after that answer.
        last_seen = next(m for m in stored if m["reply_to"] == two["message_id"])
        async with connect(app.ws(f"{path}?chat_id={chat_id}&after={last_seen['message_id']}")) as socket:
            replayed = [await _next(socket) for _ in range(2)]
            assert [e["content"] for e in replayed] == [
                'You said: "three". That is message 3 of this chat.',
                'You said: "four". That is message 4 of this chat.',
            ]
            live = await turn(socket, "five")
            assert received(live) and live[-1]["content"].endswith("message 5 of this chat.")


async def test_an_answer_still_being_written_arrives_after_the_reconnect(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        fake.add_answer("slow and steady wins", delay=0.2)
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
            path = f"/ws/agents/{agent_id}"
            async with connect(app.ws(path)) as socket:
                await send(socket, "take your time")
                asked = await _received_only(socket)
            # Back while the model is still answering (or just done): the answer comes once.
            query = f"?chat_id={asked['chat_id']}&after={asked['message_id']}"
            async with connect(app.ws(path + query)) as socket:
                events = await receive_until_final(socket)
                finals = [e for e in events if e["type"] in ("message", "error")]
                assert [e["content"] for e in finals] == ["slow and steady wins"], events
                assert finals[0]["message_object"]["reply_to"] == asked["message_id"]


async def test_an_error_missed_while_away_is_replayed_with_its_code(sqlite_url: str) -> None:
    with FakeOpenAI() as fake:
        for _ in range(3):  # the client retries; every attempt fails
            fake.add_error(500, "the model is on fire")
        async with running_app(make_settings(database_url=sqlite_url)) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
            path = f"/ws/agents/{agent_id}"
            async with connect(app.ws(path)) as socket:
                await send(socket, "will this work?")
                asked = await _received_only(socket)
            query = f"?chat_id={asked['chat_id']}&after={asked['message_id']}"
            async with connect(app.ws(path + query)) as socket:
                events = await receive_until_final(socket)
        assert events[-1]["type"] == "error", events
        assert events[-1]["code"] == "agent_error"
        assert events[-1]["reply_to"] == asked["message_id"]
        assert "500" in events[-1]["message"] and "on fire" not in events[-1]["message"]


@pytest.mark.parametrize("query", ["?chat_id=c1&after=nope", "?chat_id=elsewhere&after={known}"])
async def test_an_unknown_after_is_an_error_and_close_4404(sqlite_url: str, query: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
        path = f"/ws/agents/{agent_id}"
        async with connect(app.ws(path)) as socket:
            known = received(await turn(socket, "hello", chat_id="c1"))["message_id"]
        async with connect(app.ws(path + query.format(known=known))) as socket:
            event = await _next(socket)
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
    assert event["type"] == "error" and event["code"] == "unknown_message", event
    assert "has no message" in event["message"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("?after=x", "after needs chat_id"),
        ("?chat_id=no%20spaces!", "chat_id must match"),
        ("?chat_id=c1&after=" + "x" * 65, "after must be a message id"),
    ],
)
async def test_a_bad_query_is_refused(sqlite_url: str, query: str, problem: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
        async with connect(app.ws(f"/ws/agents/{agent_id}{query}")) as socket:
            event = await _next(socket)
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
    assert event["type"] == "error" and event["code"] == "invalid_input", event
    assert problem in event["message"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_a_client_back_on_another_gateway_gets_what_it_missed(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    await migrate.upgrade(engine)
    await engine.dispose()
    settings = make_settings(database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as a, running_app(settings) as b:
        async with httpx.AsyncClient(base_url=a.url, timeout=20, headers=a.headers) as client:
            agent_id = await create_agent(client)
            async with connect(a.ws(f"/ws/agents/{agent_id}")) as socket:
                await send(socket, "sent through A")
                asked = await _received_only(socket)
            await _answers(client, agent_id, asked["chat_id"], 1)
        query = f"?chat_id={asked['chat_id']}&after={asked['message_id']}"
        async with connect(b.ws(f"/ws/agents/{agent_id}{query}")) as socket:
            replayed = await _next(socket)
            assert replayed["type"] == "message", replayed
            assert replayed["content"] == 'You said: "sent through A". That is message 1 of this chat.'
            live = await turn(socket, "and through B")
            assert live[-1]["content"].endswith("message 2 of this chat.")
