"""PostgreSQL goes away and comes back: a 503 in the documented shape (a WebSocket opened
meanwhile closes with 1013), no stack trace, and chatting resumes by itself."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed

from agenthub.db import migrate
from agenthub.db.engine import create_engine
from tests.channels.helpers import assert_json_error, create_agent, eventually
from tests.support.server import make_settings, running_app
from tests.support.sse import parse_sse
from tests.support.tcp_proxy import TcpProxy
from tests.support.ws import connect

pytestmark = [pytest.mark.postgres]


async def _answer(client: httpx.AsyncClient, agent_id: str, content: str) -> str | None:
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content, "chat_id": "c1"})
    if response.status_code != 200:
        return None
    return next((data["content"] for name, data in parse_sse(response.text) if name == "message"), None)


async def test_a_database_outage_is_503_and_heals(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    await migrate.upgrade(engine)
    await engine.dispose()
    real = make_url(postgres_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    settings = make_settings(database_url=real.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
    try:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            agent_id = await create_agent(client)
            assert await _answer(client, agent_id, "before") == 'You said: "before". That is message 1 of this chat.'

            await proxy.cut()
            for response in (
                await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "during", "chat_id": "c1"}),
                await client.get("/api/v1/agents"),
            ):
                error = assert_json_error(response, 503)
                assert error["code"] == "unavailable"
            # A WebSocket opened now is told so and closed with 1013 (try again later).
            async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
                event = json.loads(await asyncio.wait_for(socket.recv(), 30))
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(socket.recv(), 30)
            assert event["type"] == "error" and event["code"] == "unavailable", event
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            health = await client.get("/health")
            assert health.status_code == 503 and health.json()["checks"]["database"]["ok"] is False

            await proxy.start()
            answer = await eventually(lambda: _answer(client, agent_id, "after"), timeout=30, what="recovery")
            assert answer == 'You said: "after". That is message 2 of this chat.'
    finally:
        await proxy.cut()
