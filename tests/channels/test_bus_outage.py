"""Redis goes away and comes back: clients get a clear 503 / error event, nothing is stored
half-way, and chatting resumes by itself once Redis is reachable again."""

from __future__ import annotations

import httpx
import pytest

from tests.channels.helpers import assert_json_error, create_agent, eventually, turn
from tests.support.server import make_settings, running_app
from tests.support.sse import parse_sse
from tests.support.tcp_proxy import proxied_redis
from tests.support.ws import connect

pytestmark = [pytest.mark.redis]


async def _answer(client: httpx.AsyncClient, agent_id: str, content: str, chat_id: str) -> str | None:
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content, "chat_id": chat_id})
    if response.status_code != 200:
        return None
    message = [data for name, data in parse_sse(response.text) if name == "message"]
    return message[0]["content"] if message else None


async def test_a_redis_outage_is_503_stores_nothing_and_heals(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    proxy, redis_url = await proxied_redis(redis_server_url)
    settings = make_settings(database_url=sqlite_url, redis_url=redis_url, redis_prefix=redis_prefix)
    try:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            agent_id = await create_agent(client)
            assert await _answer(client, agent_id, "before", "c1") == 'You said: "before". That is message 1 of this chat.'

            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                events = await turn(socket, "hello from the socket", chat_id="c2")
                assert events[-1]["type"] == "message"
                await proxy.cut()

                refused = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "during", "chat_id": "c1"})
                error = assert_json_error(refused, 503)
                assert error["code"] == "unavailable"

                health = await client.get("/health")
                assert health.status_code == 503
                assert health.json()["checks"]["bus"]["ok"] is False
                assert health.json()["checks"]["database"]["ok"] is True

                events = await turn(socket, "during, over the socket", chat_id="c1")
                assert [e["type"] for e in events] == ["error"]
                assert "unavailable" in events[0]["message"]

                await proxy.start()  # same port: Redis is back
                answer = await eventually(
                    lambda: _answer(client, agent_id, "after", "c1"), timeout=30, what="chatting to work again"
                )
                # The two refused messages were not stored: this is the chat's second message.
                assert answer == 'You said: "after". That is message 2 of this chat.'

                events = await turn(socket, "the socket works again", chat_id="c1")
                assert events[-1]["type"] == "message"

            history = await eventually(
                lambda: _history_if_complete(client, agent_id, "c1", 6), what="the history to be written"
            )
            assert [m["content"] for m in history if m["role"] == "user"] == [
                "before", "after", "the socket works again",
            ]
    finally:
        await proxy.cut()


async def _history_if_complete(client: httpx.AsyncClient, agent_id: str, chat_id: str, count: int) -> list | None:
    items = (await client.get(f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages")).json()["items"]
    return items if len(items) >= count else None


async def test_a_stop_during_an_outage_is_503_and_leaves_the_agent_supervised(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    proxy, redis_url = await proxied_redis(redis_server_url)
    settings = make_settings(database_url=sqlite_url, redis_url=redis_url, redis_prefix=redis_prefix)
    try:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            agent_id = await create_agent(client, isolation="process")
            assert await _answer(client, agent_id, "before", "c1") is not None
            await proxy.cut()
            assert_json_error(await client.post(f"/api/v1/agents/{agent_id}/stop"), 503)
            assert agent_id in app.app.state.supervisor.managed, "still supervised: nothing was done"
            await proxy.start()  # same port: Redis is back

            async def answered() -> str | None:
                return await _answer(client, agent_id, "after", "c1")

            assert await eventually(answered, what="the agent to answer again", timeout=30)
            stopped = await client.post(f"/api/v1/agents/{agent_id}/stop")
            assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    finally:
        await proxy.cut()
