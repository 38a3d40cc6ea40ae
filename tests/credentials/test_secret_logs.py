"""A credential's value stays out of the logs at DEBUG: made, listed, used by an agent, and
said back by a model server that refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agenthub.ops.logging import configure_logging
from tests.agents.helpers import agent_body, client_for
from tests.ops.test_logging import restored_logging  # noqa: F401 - the fixture
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse

VALUE = "org-model-key-0f1e2d3c4b5a"


async def test_the_value_is_in_no_log_line_at_debug(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None  # noqa: F811
) -> None:
    with FakeOpenAI() as model:
        model.add_error(401, f"Incorrect API key provided: {VALUE}")  # what providers do
        model.add_answer("Fine now")
        overrides = {"data_dir": tmp_path / "data", "log_level": "DEBUG", "log_json": True}
        async with client_for(sqlite_url, **overrides) as (app, client):
            configure_logging(app.settings, component="gateway")
            created = await client.post("/api/v1/credentials", json={"name": "k", "type": "api_key", "value": VALUE})
            assert created.status_code == 201
            listed = await client.get("/api/v1/credentials")
            settings = {"provider": "openai_compatible", "model_id": "m", "base_url": model.url,
                        "api_key_credential_id": created.json()["id"]}
            agent = await client.post("/api/v1/agents", json=agent_body(id="keyed", settings=settings))
            assert agent.status_code == 201, agent.text
            read = await client.get("/api/v1/agents/keyed")
            answers = [
                await client.post("/api/v1/agents/keyed/chat", json={"content": text}, timeout=60)
                for text in ("first", "second")
            ]
        assert [request.headers["authorization"] for request in model.requests] == [f"Bearer {VALUE}"] * 2
    failed, answered = (parse_sse(answer.text) for answer in answers)
    assert [name for name, _ in failed if name == "error"] == ["error"]
    assert ("message", "Fine now") in [(name, data.get("content")) for name, data in answered]
    for response in (created, listed, agent, read, *answers):
        assert VALUE not in response.text
    output = capsys.readouterr().err
    assert "turn failed" in output and "Incorrect API key provided" in output, output
    assert VALUE not in output
