"""A credential sent as an HTTP tool's header stays out of the logs (at DEBUG), the events,
the history and what the model is told, even when the API echoes it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agenthub.ops.logging import configure_logging
from tests.agents.helpers import agent_body, client_for, wait_for
from tests.ops.test_logging import restored_logging  # noqa: F401 - the fixture
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse
from tests.support.target import Target

VALUE = "tool-key-9a8b7c6d5e4f"


async def _with_answer(client: httpx.AsyncClient, chat_id: str) -> httpx.Response | None:
    response = await client.get(f"/api/v1/agents/keyed/chats/{chat_id}/messages")
    return response if response.status_code == 200 and len(response.json()["items"]) >= 2 else None


async def test_the_value_is_nowhere_but_in_the_request(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None  # noqa: F811
) -> None:
    with Target() as target, FakeOpenAI() as model:
        model.add_tool_call("whoami", {})
        model.add_answer("Done.")
        overrides = {"data_dir": tmp_path / "data", "log_level": "DEBUG", "log_json": True,
                     "outbound_allowlist": "127.0.0.1"}
        async with client_for(sqlite_url, **overrides) as (app, client):
            configure_logging(app.settings, component="gateway")
            created = await client.post("/api/v1/credentials", json={"name": "k", "type": "http_header", "value": VALUE})
            assert created.status_code == 201
            settings = {"provider": "openai_compatible", "model_id": "m", "base_url": model.url, "http_tools": [{
                "name": "whoami", "url": f"{target.url}/me",
                "headers": {"X-Api-Key": {"credential_id": created.json()["id"]}},
            }]}
            agent = await client.post("/api/v1/agents", json=agent_body(id="keyed", settings=settings))
            assert agent.status_code == 201, agent.text
            answer = await client.post("/api/v1/agents/keyed/chat", json={"content": "who am I?"}, timeout=60)
            message = next(data for name, data in parse_sse(answer.text) if name == "message")
            history = await wait_for(lambda: _with_answer(client, message["chat_id"]))
        assert "Done." in answer.text, answer.text
    assert target.requests[0]["headers"]["x-api-key"] == VALUE
    assert history is not None and history.json()["items"][-1]["tool_calls"][0]["name"] == "whoami"
    assert VALUE not in answer.text and VALUE not in history.text
    assert all(VALUE not in str(request.body) for request in model.requests)
    assert VALUE not in capsys.readouterr().err
