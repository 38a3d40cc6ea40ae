"""The embedded mode (no REDIS_URL): every agent, whatever its isolation, runs inside the
gateway process, starts when a message arrives and answers over SSE."""

from __future__ import annotations

import os
import socket

import httpx
import pytest

from tests.runtime.helpers import chat, create_agent, eventually, get_status, said
from tests.support.server import make_settings, running_app


@pytest.mark.parametrize("isolation", ["process", "shared"])
async def test_agent_of_any_isolation_runs_in_process_and_starts_on_first_message(
    sqlite_url: str, isolation: str
) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app, \
            httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=30) as client:
        agent_id = await create_agent(client, "embedded", isolation=isolation)
        assert (await get_status(client, agent_id))["status"] == "stopped"

        first = await chat(client, agent_id, "wake up")
        assert first.started_agent, f"no starting notice in {first.events}"
        assert [name for name, _ in first.events][0] == "status"
        assert first.content == said("wake up", 1)
        assert first.of("chunk"), "the answer was streamed"
        usage = first.of("usage")[0]
        assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0

        status = await get_status(client, agent_id)
        assert status["status"] == "running"
        assert status["pid"] == os.getpid(), "hosted inside the gateway process"
        assert status["host"] == socket.gethostname()
        assert status["host_id"].startswith("gateway-")
        assert status["isolation"] == isolation
        assert status["placement"] == "local", "inside agenthub serve, whatever the isolation says"
        assert app.app.state.supervisor.managed[agent_id].placement == "local"

        second = await chat(client, agent_id, "and now?", chat_id=first.chat_id)
        assert not second.started_agent, "already running: no starting notice"
        assert second.content == said("and now?", 2)

        async def stored() -> list[tuple[str, str]]:
            response = await client.get(f"/api/v1/agents/{agent_id}/chats/{first.chat_id}/messages")
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            return sorted((m["role"], m["content"]) for m in items) if len(items) == 4 else []

        assert await eventually(stored, what="the chat history to be saved") == sorted([
            ("user", "wake up"), ("assistant", said("wake up", 1)),
            ("user", "and now?"), ("assistant", said("and now?", 2)),
        ])
