"""Many messages in flight while the runner is killed again and again: every message is
answered exactly once, each chat's history stays in order, and every waiting client gets
its answer."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import httpx
import pytest

from tests.runtime.helpers import eventually, get_status, start_runner_on, wait_status
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.ws import connect

pytestmark = [pytest.mark.redis]

CHATS = 4
MESSAGES_PER_CHAT = 5
KILLS = 3


async def _send_all(ws_url: str, chat_id: str) -> dict[str, dict]:
    """Send a chat's messages back to back on one socket; return each message's answer."""
    async with connect(ws_url) as socket:
        for n in range(MESSAGES_PER_CHAT):
            await socket.send(json.dumps({"type": "message", "content": f"{chat_id} says {n}", "chat_id": chat_id}))
        received: list[str] = []
        answers: dict[str, dict] = {}
        async with asyncio.timeout(90):
            while len(answers) < MESSAGES_PER_CHAT:
                event = json.loads(await socket.recv())
                if event["type"] == "status" and event["message"] == "received":
                    received.append(event["message_id"])
                elif event["type"] == "message":
                    answers[event["message_object"]["reply_to"]] = event
                elif event["type"] == "error":
                    raise AssertionError(f"an error reached the client: {event}")
        assert sorted(received) == sorted(answers), "every acknowledged message was answered"
        return answers


async def test_messages_in_flight_survive_repeated_runner_kills(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix, max_restart_attempts=10,
    )
    with FakeOpenAI() as model:
        for _ in range(CHATS * MESSAGES_PER_CHAT * 2):
            model.add_answer("a slow answer in several words", delay=0.04)
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            status = await start_runner_on(client, "soaked", model.url)

            ws_url = app.ws("/ws/agents/soaked")
            chats = [asyncio.create_task(_send_all(ws_url, f"chat{i}")) for i in range(CHATS)]
            for _ in range(KILLS):
                # Killed mid-turn: once this runner has a turn at the model.
                asked = len(model.requests)
                await eventually(lambda n=asked: len(model.requests) > n, what="a turn of this runner")
                os.kill(status["pid"], signal.SIGKILL)
                previous = status["pid"]
                status = await wait_status(
                    client, "soaked", lambda s, p=previous: s["status"] == "running" and s["pid"] != p,
                    what="the runner to come back",
                )
            answered = await asyncio.gather(*chats)
            assert (await get_status(client, "soaked"))["restart_count"] == KILLS

            for i, answers in enumerate(answered):
                chat_id = f"chat{i}"

                async def complete(chat_id: str = chat_id) -> list | None:
                    url = f"/api/v1/agents/soaked/chats/{chat_id}/messages"
                    items = (await client.get(url)).json()["items"]
                    return items if len(items) >= 2 * MESSAGES_PER_CHAT else None

                history = await eventually(complete, what=f"{chat_id}'s history")
                assert len(history) == 2 * MESSAGES_PER_CHAT, "no message stored twice"
                roles = [m["role"] for m in history]
                assert roles == ["user", "assistant"] * MESSAGES_PER_CHAT, "each answer right after its question"
                users = history[0::2]
                assert [m["content"] for m in users] == [f"{chat_id} says {n}" for n in range(MESSAGES_PER_CHAT)]
                for question, answer in zip(users, history[1::2], strict=True):
                    assert answer["reply_to"] == question["message_id"]
                    assert answers[question["message_id"]]["message_object"]["message_id"] == answer["message_id"]
