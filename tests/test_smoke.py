"""The embedded default answers on every channel: a first check that the whole stack
assembles."""

import json

import httpx

from agenthub.agents.demo import DEMO_AGENT_ID
from tests.support.server import make_settings, running_app
from tests.support.ws import connect


async def test_demo_agent_answers_over_websocket_and_sse(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        async with connect(app.ws(f"/ws/agents/{DEMO_AGENT_ID}")) as socket:
            await socket.send(json.dumps({"type": "message", "content": "hello"}))
            events = []
            while not events or events[-1]["type"] not in ("message", "error"):
                events.append(json.loads(await socket.recv()))
        assert events[0]["type"] == "status" and events[0]["message"] == "received"
        assert any(e["type"] == "chunk" for e in events)
        assert events[-1]["content"] == 'You said: "hello". That is message 1 of this chat.'

        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            response = await client.post(f"/api/v1/agents/{DEMO_AGENT_ID}/chat", json={"content": "again"})
        assert response.status_code == 200
        assert "event: done" in response.text
